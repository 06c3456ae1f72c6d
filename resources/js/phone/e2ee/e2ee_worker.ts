/*
 * The web phone's encoded-transform worker (one per call): Chromium hands it the sender's and the
 * receiver's encoded audio frames (RTCRtpScriptTransform, `rtctransform` events); FrameCipher
 * encrypts, decrypts, drops or passes them. Loaded from its own same-origin file (the CSP allows
 * workers from 'self', not blob:).
 */
import { FrameCipher, type FrameCipherCommand } from './frame_cipher.js'

/** The parts of the worker scope and the encoded-transform API this file uses. */
interface EncodedFrame {
  data: ArrayBuffer
}
interface ScriptTransformer {
  readable: ReadableStream<EncodedFrame>
  writable: WritableStream<EncodedFrame>
  options?: { side?: 'send' | 'receive' }
}
interface WorkerScope {
  onrtctransform: ((event: { transformer: ScriptTransformer }) => void) | null
  onmessage: ((event: MessageEvent<FrameCipherCommand>) => void) | null
  postMessage(message: unknown): void
}

const scope = globalThis as unknown as WorkerScope
// Until the page says otherwise nothing leaves unencrypted.
const cipher = new FrameCipher('drop')
/** The page's commands apply in order, each before the frames that follow it. */
let applied: Promise<void> = Promise.resolve()

scope.onmessage = (event) => {
  const command = event.data
  applied = applied.then(async () => {
    if (command.type === 'recorded')
      scope.postMessage({ type: 'recorded', frames: cipher.recorded })
    else await cipher.command(command)
  })
}

scope.onrtctransform = (event) => {
  const { transformer } = event
  const sending = transformer.options?.side === 'send'
  transformer.readable
    .pipeThrough(
      new TransformStream<EncodedFrame, EncodedFrame>({
        async transform(frame, controller) {
          await applied
          const data = new Uint8Array(frame.data)
          const out = sending ? await cipher.outgoing(data) : await cipher.incoming(data)
          if (!out) return
          if (out !== data) frame.data = out.slice().buffer
          controller.enqueue(frame)
        },
      })
    )
    .pipeTo(transformer.writable)
    .catch(() => {})
}
