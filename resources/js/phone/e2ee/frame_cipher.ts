/*
 * What the transform worker does to each encoded audio frame, for one call: pass it unchanged
 * (the peer is no browser: transport encryption only), drop it (an end-to-end encrypted call whose
 * keys are not there yet: nothing unencrypted reaches the relay), or SFrame-encrypt/-decrypt it.
 * The sender ratchets to the next KID every 2^16 frames or 10 minutes; the receiver follows when
 * it sees the next KID and keeps the previous key for frames still under way. No DOM.
 */
import { ratchet } from './key_agreement.js'
import {
  decryptFrame,
  encryptFrame,
  parseHeader,
  sframeKey,
  type Bytes,
  type SFrameKey,
} from './sframe.js'

/**
 * passthrough: no E2EE (the peer is no browser); undecided: a call placed and not answered yet
 * (whether it will be end-to-end encrypted is unknown: nothing is sent, early media is heard);
 * drop: E2EE keys awaited; encrypt: SFrame both ways.
 */
export type FrameMode = 'passthrough' | 'undecided' | 'drop' | 'encrypt'
export type WaitingMode = Exclude<FrameMode, 'encrypt'>

/** Frames per key before the sender ratchets (the counter stays far from reuse). */
export const RATCHET_FRAMES = 2 ** 16
export const RATCHET_MS = 10 * 60 * 1000
/** How far ahead of its newest key a receiver follows a KID (frames lost across a ratchet). */
const MAX_RATCHET_AHEAD = 4

/** The worker's commands from the page (postMessage). */
export type FrameCipherCommand =
  | { type: 'mode'; mode: WaitingMode }
  | { type: 'keys'; epoch: number; sendKey: Bytes; receiveKey: Bytes }
  | { type: 'test-hooks'; recordFrames: number; decrypt: boolean }
  | { type: 'recorded' }

/** A plaintext frame the sender was given (test hook): its SHA-256, length and SFrame position. */
export interface RecordedFrame {
  sha256: string
  length: number
  kid: number
  ctr: number
}

class SendState {
  base: Bytes
  key: SFrameKey
  ctr = 0n
  since: number
  constructor(base: Bytes, key: SFrameKey, now: number) {
    this.base = base
    this.key = key
    this.since = now
  }
}

class ReceiveState {
  /** The newest KID's base key, from which the next ones are derived. */
  newestBase: Bytes
  keys = new Map<bigint, SFrameKey>()
  newest: bigint
  constructor(base: Bytes, key: SFrameKey) {
    this.newestBase = base
    this.newest = key.kid
    this.keys.set(key.kid, key)
  }
}

const hex = (data: ArrayBuffer) =>
  Array.from(new Uint8Array(data), (byte) => byte.toString(16).padStart(2, '0')).join('')

export class FrameCipher {
  #mode: FrameMode
  #send: SendState | null = null
  #receive: ReceiveState | null = null
  #now: () => number
  /** Test hooks (the page enables them only in our test environment). */
  #recordLimit = 0
  #recorded: RecordedFrame[] = []
  #decrypt = true

  constructor(initial: WaitingMode, now: () => number = Date.now) {
    this.#mode = initial
    this.#now = now
  }

  get mode(): FrameMode {
    return this.#mode
  }

  get recorded(): RecordedFrame[] {
    return [...this.#recorded]
  }

  async command(command: FrameCipherCommand): Promise<void> {
    if (command.type === 'mode') {
      this.#mode = command.mode
      this.#send = null
      this.#receive = null
    } else if (command.type === 'keys') {
      const now = this.#now()
      this.#send = new SendState(command.sendKey, await sframeKey(command.sendKey, 0n), now)
      this.#receive = new ReceiveState(command.receiveKey, await sframeKey(command.receiveKey, 0n))
      this.#mode = 'encrypt'
    } else if (command.type === 'test-hooks') {
      this.#recordLimit = command.recordFrames
      this.#decrypt = command.decrypt
    }
  }

  /** The frame to send in place of `frame`; null drops it. Empty frames always pass. */
  async outgoing(frame: Uint8Array): Promise<Uint8Array | null> {
    if (frame.length === 0 || this.#mode === 'passthrough') return frame
    const state = this.#send
    if (this.#mode !== 'encrypt' || !state) return null
    if (state.ctr >= BigInt(RATCHET_FRAMES) || this.#now() - state.since >= RATCHET_MS) {
      state.base = await ratchet(state.base)
      state.key = await sframeKey(state.base, state.key.kid + 1n)
      state.ctr = 0n
      state.since = this.#now()
    }
    const ctr = state.ctr++
    if (this.#recorded.length < this.#recordLimit) {
      this.#recorded.push({
        sha256: hex(await crypto.subtle.digest('SHA-256', new Uint8Array(frame))),
        length: frame.length,
        kid: Number(state.key.kid),
        ctr: Number(ctr),
      })
    }
    return encryptFrame(state.key, ctr, frame)
  }

  /** The plaintext of a received frame; null drops it (no key yet, or it does not verify). */
  async incoming(frame: Uint8Array): Promise<Uint8Array | null> {
    if (frame.length === 0 || this.#mode === 'passthrough' || this.#mode === 'undecided')
      return frame
    const state = this.#receive
    if (this.#mode !== 'encrypt' || !state) return null
    // Test hook: hand the ciphertext to the decoder as it came (it must sound like noise).
    if (!this.#decrypt) return frame
    try {
      const header = parseHeader(frame)
      const key = await this.#keyFor(state, header.kid)
      if (!key) return null
      return await decryptFrame(key, header, frame)
    } catch {
      return null
    }
  }

  async #keyFor(state: ReceiveState, kid: bigint): Promise<SFrameKey | null> {
    const known = state.keys.get(kid)
    if (known) return known
    if (kid <= state.newest || kid > state.newest + BigInt(MAX_RATCHET_AHEAD)) return null
    while (state.newest < kid) {
      state.newestBase = await ratchet(state.newestBase)
      state.newest += 1n
      state.keys.set(state.newest, await sframeKey(state.newestBase, state.newest))
    }
    // Keep the previous key for frames still under way; older ones are gone for good.
    for (const old of state.keys.keys()) if (old < state.newest - 1n) state.keys.delete(old)
    return state.keys.get(kid) ?? null
  }
}
