/*
 * End-to-end encryption of one web phone call (issue 22). The B2BUA's X-FluffyCall-E2EE header
 * says when both ends are browsers and which role this side plays in which epoch; the two
 * browsers then agree on keys over in-dialog INFO (KeyExchange) and the transform worker
 * SFrame-encrypts the encoded audio frames. Without the header the frames pass unchanged
 * (transport encryption only). The keys stay in this page and its worker: never sent, never logged.
 */
import { SessionState, type Info, type Session } from 'sip.js'
import type { CallKeys } from './key_agreement.js'
import {
  E2EE_CONTENT_TYPE,
  KeyExchange,
  parseMessage,
  type E2eeAssignment,
  type E2eeFailure,
  type E2eeMessage,
} from './key_exchange.js'
import type { FrameCipherCommand, RecordedFrame, WaitingMode } from './frame_cipher.js'

/** What the phone shows about a call's encryption. */
export interface EncryptionStatus {
  /** transport: TLS/DTLS-SRTP to our server only; exchanging: E2EE keys being agreed; e2ee: on. */
  state: 'transport' | 'exchanging' | 'e2ee'
  /** The short authentication string both people compare ("123 456"), with e2ee only. */
  code: string | null
  /** Why an end-to-end encryption that was due did not come about (shown beside "transport"). */
  failure: E2eeFailure | 'unsupported' | null
}

/** How long the exchange may take before the call falls back to transport encryption. */
export const KEY_EXCHANGE_TIMEOUT_MS = 6000
/** With the test hooks on, the sender records this many of its first plaintext frames. */
const TEST_RECORDED_FRAMES = 1000

/** Test hooks: only when the page was served by our test environment (data-test-hooks). */
export interface EncryptionTestHooks {
  /** SHA-256, length, KID and CTR of the first `count` plaintext frames the sender encrypted. */
  recordFrames(count: number): void
  recordedFrames(): Promise<RecordedFrame[]>
  /** false: the receiver hands the ciphertext to the decoder undecrypted. */
  setDecrypt(decrypt: boolean): void
}

export function encodedTransformsSupported(): boolean {
  return typeof RTCRtpScriptTransform !== 'undefined' && typeof Worker !== 'undefined'
}

export class CallEncryption {
  #session: Session
  #worker: Worker | null = null
  #exchange: KeyExchange | null = null
  #epoch = 0
  #status: EncryptionStatus = { state: 'transport', code: null, failure: null }
  #mode: WaitingMode | 'encrypt'
  #onChange: (status: EncryptionStatus) => void
  #testHooks = { record: 0, decrypt: true }
  #closed = false

  /**
   * `initial`: undecided for a call this phone places (the answer tells), drop for an INVITE that
   * names a role (keys follow), passthrough for one without.
   */
  constructor(
    session: Session,
    initial: WaitingMode,
    onChange: (status: EncryptionStatus) => void,
    testHooks = false
  ) {
    this.#session = session
    this.#mode = initial
    this.#onChange = onChange
    if (testHooks) this.#testHooks.record = TEST_RECORDED_FRAMES
  }

  get status(): EncryptionStatus {
    return { ...this.#status }
  }

  /**
   * Puts the worker's transforms on every sender and receiver that has none yet: right after
   * addTrack, before negotiation (attached later, e.g. in ontrack, the receiver's never runs).
   */
  attach(peerConnection: RTCPeerConnection): void {
    if (!encodedTransformsSupported() || this.#closed) return
    const worker = this.#startWorker()
    for (const transceiver of peerConnection.getTransceivers()) {
      if (!transceiver.sender.transform)
        transceiver.sender.transform = new RTCRtpScriptTransform(worker, { side: 'send' })
      if (!transceiver.receiver.transform)
        transceiver.receiver.transform = new RTCRtpScriptTransform(worker, { side: 'receive' })
    }
  }

  #startWorker(): Worker {
    if (this.#worker) return this.#worker
    this.#worker = new Worker(new URL('./e2ee_worker.ts', import.meta.url), { type: 'module' })
    this.#post({ type: 'mode', mode: this.#mode === 'encrypt' ? 'drop' : this.#mode })
    if (this.#testHooks.record || !this.#testHooks.decrypt)
      this.#post({
        type: 'test-hooks',
        recordFrames: this.#testHooks.record,
        decrypt: this.#testHooks.decrypt,
      })
    return this.#worker
  }

  /** The role header of an INVITE, 200 OK or re-INVITE (null: none on this message). */
  assign(assignment: E2eeAssignment | null, options: { initial: boolean }): void {
    if (this.#closed) return
    if (!assignment) {
      // No header on the first answer or INVITE: the peer is no browser. Later messages without
      // one (hold, our own re-INVITEs) change nothing.
      if (options.initial) this.#fallBack(null)
      return
    }
    if (assignment.epoch <= this.#epoch) return
    this.#epoch = assignment.epoch
    this.#exchange?.stop()
    this.#exchange = null
    if (assignment.role === 'none') {
      this.#fallBack(null)
      return
    }
    this.#setMode('drop')
    if (!encodedTransformsSupported()) {
      // This browser cannot encrypt frames: say so to the peer at once rather than let it wait.
      void this.#send({ epoch: assignment.epoch, type: 'abort' })
      this.#fallBack('unsupported')
      return
    }
    this.#exchange = new KeyExchange({
      role: assignment.role,
      epoch: assignment.epoch,
      timeoutMs: KEY_EXCHANGE_TIMEOUT_MS,
      events: {
        send: (message) => this.#send(message),
        keys: (keys) => this.#install(assignment.epoch, keys),
        failed: (reason) => {
          if (assignment.epoch === this.#epoch) this.#fallBack(reason)
        },
      },
    })
    this.#show({ state: 'exchanging', code: null, failure: null })
    // A 200 OK or re-INVITE comes on an established dialog: start at once.
    if (this.#session.state === SessionState.Established) void this.#exchange.start()
  }

  /** Starts the exchange of the current epoch once the call is answered (INFO needs a dialog). */
  established(): void {
    void this.#exchange?.start()
  }

  /** An in-dialog INFO: ours are answered and handed on; others are accepted as before. */
  onInfo(info: Info): boolean {
    const request = info.request
    const contentType = request.getHeader('Content-Type') ?? ''
    if (!contentType.toLowerCase().startsWith(E2EE_CONTENT_TYPE)) return false
    const message = parseMessage(request.body ?? '')
    void info.accept().catch(() => {})
    if (message) void this.#exchange?.receive(message)
    return true
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#exchange?.stop()
    this.#exchange = null
    this.#worker?.terminate()
    this.#worker = null
  }

  /** Test hooks for the browser tests (main.ts exposes them only in the test environment). */
  get testHooks(): EncryptionTestHooks {
    return {
      recordFrames: (count) => {
        this.#testHooks.record = count
        this.#post({ type: 'test-hooks', recordFrames: count, decrypt: this.#testHooks.decrypt })
      },
      recordedFrames: () => this.#recorded(),
      setDecrypt: (decrypt) => {
        this.#testHooks.decrypt = decrypt
        this.#post({ type: 'test-hooks', recordFrames: this.#testHooks.record, decrypt })
      },
    }
  }

  #recorded(): Promise<RecordedFrame[]> {
    const worker = this.#worker
    if (!worker) return Promise.resolve([])
    return new Promise((resolve) => {
      const listener = (event: MessageEvent<{ type: string; frames: RecordedFrame[] }>) => {
        if (event.data?.type !== 'recorded') return
        worker.removeEventListener('message', listener)
        resolve(event.data.frames)
      }
      worker.addEventListener('message', listener)
      worker.postMessage({ type: 'recorded' } satisfies FrameCipherCommand)
    })
  }

  async #install(epoch: number, keys: CallKeys): Promise<void> {
    if (epoch !== this.#epoch || this.#closed) return
    this.#mode = 'encrypt'
    // The raw base keys go to the worker only; this page keeps no copy.
    this.#post({ type: 'keys', epoch, sendKey: keys.sendKey, receiveKey: keys.receiveKey })
    keys.sendKey.fill(0)
    keys.receiveKey.fill(0)
    this.#show({ state: 'e2ee', code: keys.sas, failure: null })
  }

  #fallBack(failure: EncryptionStatus['failure']): void {
    this.#setMode('passthrough')
    this.#show({ state: 'transport', code: null, failure })
  }

  #setMode(mode: WaitingMode): void {
    this.#mode = mode
    this.#post({ type: 'mode', mode })
  }

  #post(command: FrameCipherCommand): void {
    // postMessage copies the keys (structured clone) before #install wipes its own.
    this.#worker?.postMessage(command)
  }

  #show(status: EncryptionStatus): void {
    this.#status = status
    this.#onChange(this.status)
  }

  #send(message: E2eeMessage): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#session
        .info({
          requestOptions: {
            body: {
              contentDisposition: 'render',
              contentType: E2EE_CONTENT_TYPE,
              content: JSON.stringify(message),
            },
          },
          requestDelegate: {
            onAccept: (response) => resolve(response.message.statusCode ?? 200),
            onReject: (response) => resolve(response.message.statusCode ?? 500),
          },
        })
        .catch(reject)
    })
  }
}
