import { randomInt } from 'node:crypto'
import { LookupCache } from '#core/caching/lookup_changes'
import { DateTime } from 'luxon'
import type User from '#accounts/models/user'
import type Company from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'
import { sqlTime } from '#core/sql_time'
import SipDevice, { type DeviceRefusal } from '#calls/models/sip_device'
import SipDeviceAddress from '#calls/models/sip_device_address'
import RegistrationEvictor from '#calls/services/registration_evictor'
import WebPhoneCredentialService from '#calls/services/web_phone_credential_service'
import {
  ENCRYPTED_TRANSPORTS,
  Registrar,
  clientTransportOf,
  type SipCredential,
  type SipCredentialStore,
  type SipDestination,
} from '#sip'
import { openHa1, randomSipUsername, sealHa1 } from '#calls/services/sealed_ha1'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { sipSubject, sipSubjectParts } from '#calls/signalling/sip_subject'

/** Letters and digits that cannot be mistaken for each other when typed into a phone's keypad UI. */
const PASSWORD_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
/** 22 characters of 56: about 128 bits, out of reach of any online guessing. */
const PASSWORD_LENGTH = 22
const USERNAME_LENGTH = 10
/** Addresses remembered per device (the most recent): an office, a home office, a mobile network or two. */
export const MAX_KNOWN_ADDRESSES = 10

export interface CreatedSipDevice {
  device: SipDevice
  /** Shown once on the devices page and never again: only the HA1 values are kept. */
  password: string
}

function randomString(alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('')
}

/** Live devices by SIP username (null: none), for the digest of REGISTER and INVITE. */
const liveDevices = new LookupCache<string, SipDevice | null>()

/**
 * The addresses each device registered from, by device id. Not watched by table: every REGISTER
 * writes sip_device_addresses (its time), which would drop every kept lookup. The set changes
 * only when an address is new or dropped, and this service forgets the device then; a change on
 * another node is seen within the lookups' minute (it only matters while the username is locked).
 */
const deviceAddresses = new LookupCache<number, string[]>()

/** How often a device's last call is written at most (see SipDeviceService#lastCallNotes). */
const LAST_CALL_NOTE_MS = 5_000
const LAST_CALL_NOTES_KEPT = 10_000

/**
 * Opened HA1 values of the kept device rows: opening them (two decryptions with the app key) cost
 * more than the rest of the digest check. They live exactly as long as their kept row.
 */
const openedHa1 = new WeakMap<SipDevice, SipCredential['ha1']>()

function ha1Of(device: SipDevice): SipCredential['ha1'] {
  let opened = openedHa1.get(device)
  if (!opened) {
    opened = openHa1(device)
    openedHa1.set(device, opened)
  }
  return opened
}

/**
 * Customers' SIP phones and their credentials. The service generates username and password, keeps
 * only the HA1 values (encrypted with the app key) and is the digest server's credential store,
 * for SIP phones and for the web phone's short-lived logins alike.
 */
export default class SipDeviceService implements SipCredentialStore {
  private readonly webPhones: WebPhoneCredentialService
  /**
   * The last-call note this service wrote per subject (issue 17: one UPDATE per call was a round
   * trip and a transaction each): a call within LAST_CALL_NOTE_MS of the last written note, with
   * the same encryption, writes nothing. The devices page's "last call" may so be a few seconds
   * old, per node (each node keeps its own); a change of encryption is written at once. Kept per
   * instance, so a service made anew (a test, another node) starts without notes.
   */
  readonly #lastCallNotes = new Map<string, { at: number; encrypted: boolean }>()

  constructor(
    private readonly realm: string = configuredRealm(),
    private readonly evictor: RegistrationEvictor = new RegistrationEvictor(),
    webPhones?: WebPhoneCredentialService
  ) {
    this.webPhones = webPhones ?? new WebPhoneCredentialService(realm, evictor)
  }

  async create(
    user: User,
    label: string,
    context: { actor?: User; ip?: string | null } = {}
  ): Promise<CreatedSipDevice> {
    if (user.companyId === null) {
      throw new Error('SIP devices belong to customer users; staff accounts have none')
    }
    const username = await this.#unusedUsername()
    const password = randomString(PASSWORD_ALPHABET, PASSWORD_LENGTH)
    const device = await SipDevice.create({
      companyId: user.companyId,
      userId: user.id,
      label,
      sipUsername: username,
      realm: this.realm,
      ...sealHa1(username, this.realm, password),
      revokedAt: null,
      lastRegisteredAt: null,
    })
    await AuditLog.record({
      action: 'sip.device.created',
      actor: context.actor ?? user,
      companyId: user.companyId,
      target: { type: 'sip_device', id: device.id },
      details: { username },
      ip: context.ip ?? null,
    })
    return { device, password }
  }

  /**
   * Revoked credentials stop working at once: the device's registrations are forgotten (and a
   * WebSocket client's connection closed), its next request fails digest. The row stays for the
   * audit trail.
   */
  async revoke(
    device: SipDevice,
    context: { actor?: User; ip?: string | null } = {}
  ): Promise<void> {
    if (device.isRevoked) {
      return
    }
    device.revokedAt = DateTime.utc()
    await device.save()
    // Only a live device's addresses serve a purpose (passing a lock).
    await SipDeviceAddress.query().where('sip_device_id', device.id).delete()
    deviceAddresses.forget(device.id)
    await this.evictor.evictAors([Registrar.aorFor(device.sipUsername, device.realm)])
    await AuditLog.record({
      action: 'sip.device.revoked',
      actor: context.actor ?? null,
      companyId: device.companyId,
      target: { type: 'sip_device', id: device.id },
      details: { username: device.sipUsername },
      ip: context.ip ?? null,
    })
  }

  /**
   * The company's owners turn "encrypted only" on or off (audited). Turned on, the phones that
   * registered in the clear lose their registration at once instead of at its expiry: their next
   * REGISTER is refused with the reason, so the devices page shows which phones need TLS.
   */
  async setEncryptedOnly(
    company: Company,
    on: boolean,
    context: { actor: User; ip?: string | null }
  ): Promise<number> {
    const before = company.encryptedOnly
    if (before === on) return 0
    company.encryptedOnly = on
    await company.save()
    await AuditLog.record({
      action: 'company.encrypted_only.changed',
      actor: context.actor,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: { from: before, to: on },
      ip: context.ip ?? null,
    })
    if (!on) return 0
    const devices = await SipDevice.query()
      .where('company_id', company.id)
      .whereNull('revoked_at')
      .select('sip_username', 'realm')
    return this.evictor.evictAors(
      devices.map((device) => Registrar.aorFor(device.sipUsername, device.realm)),
      // Behind a SIP front, the client's own transport counts, not the front's.
      (binding) => !ENCRYPTED_TRANSPORTS.has(clientTransportOf(binding))
    )
  }

  /** A user's devices for the devices page, newest first. */
  listForUser(userId: number): Promise<SipDevice[]> {
    return SipDevice.query().where('user_id', userId).orderBy('id', 'desc')
  }

  /**
   * The credentials of a username if the device is live: not revoked, its user not disabled, its
   * company not terminated; otherwise those of a live web phone login of that name. The HA1
   * values are opened here and only returned, never logged.
   */
  async findByUsername(username: string): Promise<SipCredential | undefined> {
    // Kept between REGISTERs and INVITEs until a device, user or company changes (revoked,
    // disabled, terminated, encrypted only: #core/caching/lookup_changes)
    const device = await liveDevices.get(username, () =>
      SipDevice.query()
        .join('users', 'users.id', 'sip_devices.user_id')
        .join('companies', 'companies.id', 'sip_devices.company_id')
        .where('sip_devices.sip_username', username)
        .whereNull('sip_devices.revoked_at')
        .whereNull('users.disabled_at')
        .whereNot('companies.status', 'terminated')
        .select('sip_devices.*', 'companies.encrypted_only as company_encrypted_only')
        .first()
    )
    if (!device) {
      return this.webPhones.findByUsername(username)
    }
    const addresses = await deviceAddresses.get(device.id, async () =>
      (await SipDeviceAddress.query().where('sip_device_id', device.id).select('address')).map(
        (row) => row.address
      )
    )
    return {
      username: device.sipUsername,
      realm: device.realm,
      ha1: ha1Of(device),
      subject: sipSubject({
        userId: device.userId,
        companyId: device.companyId,
        deviceId: device.id,
      }),
      knownAddresses: addresses,
      // SQLite gives 0/1, PostgreSQL a boolean.
      encryptedTransportOnly: Boolean(device.$extras.company_encrypted_only),
    }
  }

  /** The addresses a device registered from, most recent first. */
  knownAddresses(deviceIds: number[]): Promise<SipDeviceAddress[]> {
    if (deviceIds.length === 0) return Promise.resolve([])
    return SipDeviceAddress.query()
      .whereIn('sip_device_id', deviceIds)
      .orderBy('last_registered_at', 'desc')
  }

  async noteRegistered(credential: SipCredential, at: Date, source: SipDestination): Promise<void> {
    const { deviceId, webPhoneCredentialId } = sipSubjectParts(credential.subject) ?? {}
    if (webPhoneCredentialId !== undefined) {
      return this.webPhones.noteRegistered(webPhoneCredentialId, at)
    }
    if (deviceId === undefined) {
      return
    }
    const when = DateTime.fromJSDate(at)
    await this.#rememberAddress(deviceId, source.host, when)
    await SipDevice.query()
      .where('id', deviceId)
      .update({
        last_registered_at: sqlTime(when),
        last_transport: source.protocol,
        // Registered as its company wants it now: an earlier refusal is history.
        last_refusal: null,
        last_refused_at: null,
      })
  }

  /**
   * A device with the right password was refused by its company's "encrypted only" (a plain
   * registration, call or media offer): the devices page says so until it registers again.
   */
  noteRefused(
    credential: SipCredential,
    at: Date,
    _source: SipDestination,
    reason: DeviceRefusal
  ): Promise<void> {
    return this.refused(credential, reason, at)
  }

  /** A call from or to the device with this subject: whether its media is encrypted (SRTP). */
  async called(subject: string, mediaEncrypted: boolean, at = new Date()) {
    const { deviceId } = sipSubjectParts(subject) ?? {}
    if (deviceId === undefined) return
    if (!this.#noteLastCall(subject, mediaEncrypted, at.getTime())) return
    await SipDevice.query()
      .where('id', deviceId)
      .update({
        last_call_at: sqlTime(DateTime.fromJSDate(at)),
        last_call_encrypted: mediaEncrypted,
      })
  }

  /** Whether this call's note is to be written (see #lastCallNotes); remembers it if so. */
  #noteLastCall(subject: string, encrypted: boolean, at: number): boolean {
    const last = this.#lastCallNotes.get(subject)
    if (last && last.encrypted === encrypted && at >= last.at && at - last.at < LAST_CALL_NOTE_MS)
      return false
    // Bounded: past the limit the notes older than the interval go (they would be written anyway)
    if (this.#lastCallNotes.size >= LAST_CALL_NOTES_KEPT)
      for (const [key, note] of this.#lastCallNotes)
        if (at - note.at >= LAST_CALL_NOTE_MS) this.#lastCallNotes.delete(key)
    this.#lastCallNotes.set(subject, { at, encrypted })
    return true
  }

  /** The same for a refused call or media offer (the B2BUA's). */
  async refused(credential: SipCredential, reason: DeviceRefusal, at = new Date()): Promise<void> {
    const { deviceId } = sipSubjectParts(credential.subject) ?? {}
    if (deviceId === undefined) return
    await SipDevice.query()
      .where('id', deviceId)
      .update({ last_refusal: reason, last_refused_at: sqlTime(DateTime.fromJSDate(at)) })
  }

  async #rememberAddress(deviceId: number, address: string, at: DateTime): Promise<void> {
    const updated = await SipDeviceAddress.query()
      .where('sip_device_id', deviceId)
      .where('address', address)
      .update({ last_registered_at: sqlTime(at) })
    if (Number(Array.isArray(updated) ? updated[0] : updated) > 0) return
    deviceAddresses.forget(deviceId)
    try {
      await SipDeviceAddress.create({
        sipDeviceId: deviceId,
        address,
        firstRegisteredAt: at,
        lastRegisteredAt: at,
      })
    } catch (error) {
      // Two REGISTERs from the same new address at once: the other one stored it.
      const stored = await SipDeviceAddress.query()
        .where('sip_device_id', deviceId)
        .where('address', address)
        .first()
      if (!stored) throw error
      return
    }
    const surplus = await SipDeviceAddress.query()
      .where('sip_device_id', deviceId)
      .orderBy('last_registered_at', 'desc')
      .orderBy('id', 'desc')
      .offset(MAX_KNOWN_ADDRESSES)
      .select('id')
    if (surplus.length > 0) {
      await SipDeviceAddress.query()
        .whereIn(
          'id',
          surplus.map((row) => row.id)
        )
        .delete()
    }
    deviceAddresses.forget(deviceId)
  }

  async #unusedUsername(): Promise<string> {
    // 32^10 names make a collision unlikely; checking keeps the unique index from ever firing.
    for (;;) {
      const username = randomSipUsername('fc', USERNAME_LENGTH)
      if (!(await SipDevice.findBy('sipUsername', username))) {
        return username
      }
    }
  }
}
