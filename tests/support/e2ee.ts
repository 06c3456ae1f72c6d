import app from '@adonisjs/core/services/app'
import { WeriftMediaEngine, WorkerMediaEngine, type RelayedPacket } from '#media'
import { tamperWithKeyExchange, type RelayedKeyMessage } from '#calls/b2bua/end_to_end_encryption'

/**
 * Issue 22 in tests that run the B2BUA in-process (startB2bua): what the relay forwards, after
 * SRTP decryption, and a key substituted in transit.
 */

/**
 * Every packet the app's media engine relays from now on (all bridges: open ones and later
 * ones), with its payload after SRTP decryption; `stop()` removes the tap.
 */
export async function tapRelayedMedia(): Promise<{ packets: RelayedPacket[]; stop(): void }> {
  const engine = await app.container.make('media.engine')
  // In worker processes (MEDIA_WORKERS) the packets cross IPC to the tap: slow, but whole
  if (!(engine instanceof WeriftMediaEngine || engine instanceof WorkerMediaEngine))
    throw new Error('the app’s media engine is not the built-in engine: nothing to tap')
  const packets: RelayedPacket[] = []
  const stop = engine.tapRelays((packet) => packets.push(packet))
  return { packets, stop }
}

/**
 * Rewrites the key exchange bodies the B2BUA relays (return a new body, or undefined to pass it
 * on unchanged) until the returned function is called. Test environment only.
 */
export function tamperKeyExchange(
  rewrite: (relayed: RelayedKeyMessage) => Buffer | undefined
): () => void {
  tamperWithKeyExchange(rewrite)
  return () => tamperWithKeyExchange(undefined)
}
