import { type PacketKind } from '#media/rtp_header'
import type { RelayLeg } from '#media/relay_leg'

interface DelayedPacket {
  data: Buffer
  payloadOffset: number
  kind: PacketKind
  due: number
}

/**
 * The echo-test number: the leg's own audio and DTMF come back after a short delay, through the
 * same rewrite path as bridged media (the leg's own SSRC, sequence and payload types).
 */
export default class EchoSession {
  #leg: RelayLeg
  #delayMs: number
  #queue: DelayedPacket[] = []
  #head = 0
  #timer: NodeJS.Timeout
  #closed = false
  echoed = 0

  constructor(
    leg: RelayLeg,
    delayMs = 200,
    readonly onClosed?: () => void
  ) {
    this.#leg = leg
    this.#delayMs = delayMs
    leg.setReceiver(this.#receive)
    leg.restartOutboundSource()
    leg.onClose(() => this.close())
    this.#timer = setInterval(() => this.#flush(), 10)
    this.#timer.unref()
  }

  #receive = (packet: Buffer, length: number, payloadOffset: number, kind: PacketKind) => {
    // A copy: the packet buffer is the socket's and is sent on after the delay
    const data = Buffer.allocUnsafe(length)
    packet.copy(data, 0, 0, length)
    this.#queue.push({ data, payloadOffset, kind, due: Date.now() + this.#delayMs })
  }

  #flush() {
    const now = Date.now()
    const queue = this.#queue
    while (this.#head < queue.length && queue[this.#head].due <= now) {
      const packet = queue[this.#head++]
      if (this.#leg.sendRelayed(packet.data, packet.data.length, packet.payloadOffset, packet.kind))
        this.echoed++
    }
    if (this.#head > 256 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head)
      this.#head = 0
    }
  }

  close() {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    this.#leg.setReceiver(null)
    this.#queue = []
    this.onClosed?.()
  }
}
