import { randomInt } from 'node:crypto'
import { PacketKind, RTP_MIN_HEADER } from '#media/rtp_header'
import type { RelayLeg } from '#media/relay_leg'
import { FRAME_SAMPLES } from '#media/tone'

const FRAME_MS = 20

/**
 * Plays G.711 frames (a generated tone, a recorded announcement) to one leg, paced at 20 ms, as a
 * source of its own (own SSRC, sequence and timestamps): the leg's outbound stream re-bases onto it and back onto the relayed
 * audio afterwards, so the receiver sees one continuous stream. Resolves `done` with the number of
 * frames the leg accepted once the pattern is over or `stop()` was called.
 */
export default class TonePlayer {
  readonly done: Promise<number>
  #leg: RelayLeg
  #frames: Buffer[]
  #next = 0
  #sent = 0
  #ssrc = randomInt(1, 0xffffffff)
  #seq = randomInt(0, 0x10000)
  #timestamp = randomInt(0, 0x100000000)
  #startedAt = performance.now()
  #timer: NodeJS.Timeout
  #finish!: (sent: number) => void
  #stopped = false

  /** `frames`: 20 ms each, in the leg's codec. */
  constructor(leg: RelayLeg, frames: Buffer[]) {
    this.#leg = leg
    this.#frames = frames
    this.done = new Promise((resolve) => (this.#finish = resolve))
    this.#timer = setInterval(() => this.#tick(), FRAME_MS)
    this.#timer.unref()
    this.#tick()
  }

  /** Sends every frame that is due by now (a late timer catches up, at most 5 frames at once). */
  #tick() {
    if (this.#stopped) return
    const due = Math.floor((performance.now() - this.#startedAt) / FRAME_MS) + 1
    let burst = 0
    while (this.#next < Math.min(due, this.#frames.length) && burst++ < 5) {
      if (this.#leg.closed) return this.stop()
      this.#send(this.#frames[this.#next], this.#next === 0)
      this.#next++
    }
    if (this.#next >= this.#frames.length) this.stop()
  }

  #send(payload: Buffer, first: boolean) {
    const packet = Buffer.allocUnsafe(RTP_MIN_HEADER + payload.length)
    packet[0] = 0x80
    // The payload type is the leg's own (sendRelayed writes it); the marker opens a talkspurt
    packet[1] = first ? 0x80 : 0
    packet.writeUInt16BE(this.#seq, 2)
    packet.writeUInt32BE(this.#timestamp >>> 0, 4)
    packet.writeUInt32BE(this.#ssrc, 8)
    payload.copy(packet, RTP_MIN_HEADER)
    this.#seq = (this.#seq + 1) & 0xffff
    this.#timestamp = (this.#timestamp + FRAME_SAMPLES) >>> 0
    if (this.#leg.sendRelayed(packet, packet.length, RTP_MIN_HEADER, PacketKind.Audio)) this.#sent++
  }

  get playing() {
    return !this.#stopped
  }

  stop() {
    if (this.#stopped) return
    this.#stopped = true
    clearInterval(this.#timer)
    this.#finish(this.#sent)
  }
}
