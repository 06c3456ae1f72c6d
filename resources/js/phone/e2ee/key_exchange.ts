/*
 * One key exchange between two web phones for one epoch of a call, over in-dialog SIP INFO that our
 * server relays: initiator -> commit {hash}; responder -> dhpart {pk}; initiator -> reveal {pk};
 * the responder checks the reveal against the commitment; each side sends confirm once its keys
 * are installed. Transport, clock and crypto are injected (unit tests drive them). No DOM.
 */
import {
  base64url,
  commitment,
  deriveCallKeys,
  fromBase64url,
  generateKeyPair,
  matchesCommitment,
  type CallKeys,
  type E2eeRole,
  type EphemeralKeyPair,
} from './key_agreement.js'

export const E2EE_CONTENT_TYPE = 'application/vnd.fluffycall.e2ee+json'
/** The B2BUA's role header on INVITEs, 200 OKs and re-INVITEs of browser-to-browser calls. */
export const E2EE_HEADER = 'X-FluffyCall-E2EE'
/** Bodies above this are refused by the server; ours are far below. */
const MAX_BODY = 1024

export type E2eeMessageType = 'commit' | 'dhpart' | 'reveal' | 'confirm' | 'abort'

export interface E2eeMessage {
  epoch: number
  type: E2eeMessageType
  hash?: string
  pk?: string
}

/** What the role header says: this side's role for an epoch, or `none` (the peer is no browser). */
export interface E2eeAssignment {
  role: E2eeRole | 'none'
  epoch: number
}

/** `initiator;epoch=2` -> { role, epoch }; null for anything else. */
export function parseRoleHeader(value: string | undefined | null): E2eeAssignment | null {
  const match = /^\s*(initiator|responder|none)\s*;\s*epoch\s*=\s*(\d{1,9})\s*$/i.exec(value ?? '')
  if (!match) return null
  return { role: match[1].toLowerCase() as E2eeAssignment['role'], epoch: Number(match[2]) }
}

/** A relayed body as an E2EE message; null when it is not one (it is then ignored). */
export function parseMessage(body: string): E2eeMessage | null {
  if (body.length > MAX_BODY) return null
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const { epoch, type, hash, pk } = value as Record<string, unknown>
  if (!Number.isSafeInteger(epoch) || (epoch as number) < 0) return null
  if (!['commit', 'dhpart', 'reveal', 'confirm', 'abort'].includes(type as string)) return null
  if (hash !== undefined && typeof hash !== 'string') return null
  if (pk !== undefined && typeof pk !== 'string') return null
  return { epoch: epoch as number, type: type as E2eeMessageType, hash, pk }
}

/** How an exchange ended without keys (the call then runs with transport encryption only). */
export type E2eeFailure =
  /** The server says the call is not browser to browser (403). */
  | 'refused'
  /** The peer's answer did not come in time. */
  | 'timeout'
  /** The revealed key is not the one committed to: someone in between swapped it. */
  | 'mismatch'
  /** The peer gave up (its own timeout or mismatch). */
  | 'aborted'
  /** A message could not be used (a malformed key). */
  | 'invalid'

export interface KeyExchangeEvents {
  /** Sends a message as an in-dialog INFO; resolves with the SIP status of the answer. */
  send(message: E2eeMessage): Promise<number>
  /** The keys for this epoch are ready (install them, then the exchange sends confirm). */
  keys(keys: CallKeys): Promise<void> | void
  failed(reason: E2eeFailure): void
}

export interface KeyExchangeOptions {
  role: E2eeRole
  epoch: number
  events: KeyExchangeEvents
  /** Give up (and send abort) when the keys are not there after this long. */
  timeoutMs: number
  setTimer?: (callback: () => void, ms: number) => unknown
  clearTimer?: (handle: unknown) => void
  /** For tests: a fixed key pair. */
  keyPair?: () => Promise<EphemeralKeyPair>
}

type Stage = 'idle' | 'committed' | 'awaiting-reveal' | 'done' | 'failed' | 'stopped'

/** Retries of the commit while the server is not ready for it yet (491, e.g. mid re-INVITE). */
const COMMIT_RETRY_MS = 300

export class KeyExchange {
  readonly role: E2eeRole
  readonly epoch: number
  #events: KeyExchangeEvents
  #stage: Stage = 'idle'
  #own: EphemeralKeyPair | null = null
  #committedHash: Uint8Array | null = null
  #timer: unknown = null
  #timeoutMs: number
  #setTimer: (callback: () => void, ms: number) => unknown
  #clearTimer: (handle: unknown) => void
  #keyPair: () => Promise<EphemeralKeyPair>

  constructor(options: KeyExchangeOptions) {
    this.role = options.role
    this.epoch = options.epoch
    this.#events = options.events
    this.#timeoutMs = options.timeoutMs
    this.#setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms))
    this.#clearTimer =
      options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>))
    this.#keyPair = options.keyPair ?? generateKeyPair
  }

  get stage(): Stage {
    return this.#stage
  }

  /** Starts the clock; the initiator sends its commitment. */
  async start(): Promise<void> {
    if (this.#stage !== 'idle' || this.#timer !== null) return
    this.#timer = this.#setTimer(() => this.#fail('timeout', true), this.#timeoutMs)
    if (this.role !== 'initiator') return
    this.#own = await this.#keyPair()
    const hash = base64url(await commitment(this.#own.publicKey))
    if (this.#finished) return
    this.#stage = 'committed'
    await this.#sendCommit(hash)
  }

  async #sendCommit(hash: string): Promise<void> {
    const status = await this.#send({ epoch: this.epoch, type: 'commit', hash })
    if (this.#finished || this.#stage !== 'committed') return
    if (status === 491) {
      this.#setTimer(() => void this.#sendCommit(hash), COMMIT_RETRY_MS)
    } else if (status === 403) {
      this.#fail('refused', false)
    } else if (status >= 300) {
      this.#fail('refused', false)
    }
  }

  /** Stops without a word to the peer (the call ended, or a new epoch replaced this one). */
  stop(): void {
    if (this.#finished) return
    this.#stage = 'stopped'
    this.#clear()
  }

  /** A relayed message of the peer; messages of other epochs are none of this exchange's business. */
  async receive(message: E2eeMessage): Promise<void> {
    if (message.epoch !== this.epoch) return
    // The initiator installs its keys before the responder checks the reveal: an abort then
    // still takes this side back to transport encryption, like the peer.
    if (message.type === 'abort' && this.#stage === 'done') {
      this.#stage = 'failed'
      this.#events.failed('aborted')
      return
    }
    if (this.#finished) return
    if (message.type === 'abort') {
      this.#fail('aborted', false)
      return
    }
    if (this.role === 'initiator' && message.type === 'dhpart' && this.#stage === 'committed') {
      await this.#initiatorFinish(message)
    } else if (this.role === 'responder' && message.type === 'commit' && this.#stage === 'idle') {
      await this.#responderAnswer(message)
    } else if (
      this.role === 'responder' &&
      message.type === 'reveal' &&
      this.#stage === 'awaiting-reveal'
    ) {
      await this.#responderFinish(message)
    }
  }

  async #initiatorFinish(message: E2eeMessage): Promise<void> {
    const peer = fromBase64url(message.pk ?? '')
    const own = this.#own
    if (!peer || !own) return this.#fail('invalid', true)
    let keys: CallKeys
    try {
      keys = await deriveCallKeys('initiator', own, peer)
    } catch {
      return this.#fail('invalid', true)
    }
    if (this.#finished) return
    this.#stage = 'done'
    this.#clear()
    await this.#events.keys(keys)
    await this.#send({ epoch: this.epoch, type: 'reveal', pk: base64url(own.publicKey) })
    await this.#send({ epoch: this.epoch, type: 'confirm' })
  }

  async #responderAnswer(message: E2eeMessage): Promise<void> {
    const hash = fromBase64url(message.hash ?? '')
    if (!hash || hash.length !== 32) return this.#fail('invalid', true)
    this.#committedHash = hash
    this.#stage = 'awaiting-reveal'
    this.#own = await this.#keyPair()
    if (this.#finished) return
    await this.#send({ epoch: this.epoch, type: 'dhpart', pk: base64url(this.#own.publicKey) })
  }

  async #responderFinish(message: E2eeMessage): Promise<void> {
    const peer = fromBase64url(message.pk ?? '')
    const own = this.#own
    const hash = this.#committedHash
    if (!peer || !own || !hash) return this.#fail('invalid', true)
    if (!(await matchesCommitment(peer, hash))) return this.#fail('mismatch', true)
    let keys: CallKeys
    try {
      keys = await deriveCallKeys('responder', own, peer)
    } catch {
      return this.#fail('invalid', true)
    }
    if (this.#finished) return
    this.#stage = 'done'
    this.#clear()
    await this.#events.keys(keys)
    await this.#send({ epoch: this.epoch, type: 'confirm' })
  }

  get #finished(): boolean {
    return this.#stage === 'done' || this.#stage === 'failed' || this.#stage === 'stopped'
  }

  #fail(reason: E2eeFailure, tellPeer: boolean): void {
    if (this.#finished) return
    this.#stage = 'failed'
    this.#clear()
    if (tellPeer) void this.#send({ epoch: this.epoch, type: 'abort' })
    this.#events.failed(reason)
  }

  async #send(message: E2eeMessage): Promise<number> {
    try {
      return await this.#events.send(message)
    } catch {
      return 0
    }
  }

  #clear(): void {
    if (this.#timer !== null) this.#clearTimer(this.#timer)
    this.#timer = null
    this.#own = this.#stage === 'done' || this.#stage === 'failed' ? null : this.#own
  }
}
