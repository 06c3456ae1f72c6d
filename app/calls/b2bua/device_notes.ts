import type { DeviceRefusal } from '#calls/models/sip_device'
import type { SipCredential } from '#sip'

/**
 * What the devices page tells about a customer's SIP phone, noted by the B2BUA as calls happen
 * (SipDeviceService keeps it). Informational: never awaited, a failure is only logged.
 */
export interface DeviceNotes {
  /** The right password, refused by the company's "encrypted only". */
  refused(credential: SipCredential, reason: DeviceRefusal): Promise<void>
  /** A call from or to the phone whose bindings carry `subject`: its voice encrypted or not. */
  called(subject: string, mediaEncrypted: boolean): Promise<void>
}

/** Notes without waiting; a failure is a warning, never a failed call. */
export function noteDevice(
  devices: DeviceNotes | undefined,
  logger: { warn(details: Record<string, unknown>, message: string): void },
  note: (devices: DeviceNotes) => Promise<void>
) {
  if (!devices) return
  note(devices).catch((error) => logger.warn({ err: error }, 'could not note on the device'))
}
