import { PacketKind } from '#media/rtp_header'
import { loadNativePacketPath } from '#media/native_packet_path'
import type { RelayLeg } from '#media/relay_leg'
import {
  MediaFeatureUnavailableError,
  isG711,
  type Announcement,
  type BridgeEndReason,
  type BridgeOptions,
  type MediaBridge,
  type MediaLeg,
  type RelayTap,
} from '#media/types'
import { WARNING_TONE, toneFrames, type TonePattern } from '#media/tone'
import { announcementFrames, readAnnouncement } from '#media/announcement'
import TonePlayer from '#media/tone_player'
import type CoalescedTimers from '#media/coalesced_timers'
import { CoalescedTimer, MEDIA_TIMERS } from '#media/coalesced_timers'

/**
 * Relays RTP between two legs without transcoding: each leg maps payload types to its own
 * numbering and keeps its outgoing SSRC, sequence and timestamps continuous (OutboundRtpStream).
 * The per-packet path is two closures and two counters; the media timeout reads the legs'
 * packet counters from a timer instead of stamping every packet: the engine's shared timer, so the
 * checks of all bridges due in the same slot run in one wake-up. When both legs run in the C++
 * packet path and nothing taps the bridge, the legs are linked there: a packet goes from one
 * leg's socket to the other's without JavaScript, paused while held or while a tone plays.
 */
export default class MediaRelayBridge implements MediaBridge {
  /** Packets relayed through JavaScript (#fromA, #fromB). */
  #relayed = { aToB: 0, bToA: 0 }
  /** Per side: the leg's nativeRelayed when this bridge took it (the C++ path counts per leg). */
  #nativeBase = [0, 0]
  /** Per side: what the C++ path relayed for this bridge from legs it no longer has (replace). */
  #nativeDone = [0, 0]
  #a: RelayLeg
  #b: RelayLeg
  #held = false
  #closed = false
  #ended = false
  #listeners: ((reason: BridgeEndReason) => void)[] = []
  #timeoutMs: number
  #checkMs: number
  #timers: CoalescedTimers
  #timer = new CoalescedTimer(() => this.#checkMedia())
  #now: () => number
  /** Per side (a, b): packets received at the last check and when that count last moved. */
  #seenPackets = [0, 0]
  #quietSince: number[]
  /** A tone playing towards a (index 0) or b (1): the other side's audio waits meanwhile. */
  #tones: [TonePlayer | null, TonePlayer | null] = [null, null]
  /** Test taps (tap()); null when there are none, so the packet path only checks one field. */
  #taps: RelayTap[] | null = null

  constructor(
    a: RelayLeg,
    b: RelayLeg,
    options: BridgeOptions,
    now: () => number = Date.now,
    timers: CoalescedTimers = MEDIA_TIMERS
  ) {
    if (a === b) throw new TypeError('A bridge needs two different legs')
    if (!(options.mediaTimeoutSeconds > 0))
      throw new RangeError('mediaTimeoutSeconds must be positive')
    this.#a = a
    this.#b = b
    this.#now = now
    this.#timeoutMs = options.mediaTimeoutSeconds * 1000
    const start = now()
    this.#quietSince = [start, start]
    this.#seenPackets = [a.stats.packetsReceived, b.stats.packetsReceived]
    a.setReceiver(this.#fromA)
    b.setReceiver(this.#fromB)
    this.#nativeBase = [a.nativeRelayed, b.nativeRelayed]
    b.restartOutboundSource()
    a.restartOutboundSource()
    this.#wire()
    this.#checkMs = Math.min(1000, Math.max(50, this.#timeoutMs / 4))
    this.#timers = timers
    timers.schedule(this.#timer, this.#checkMs)
  }

  /** Packets relayed each way, by JavaScript and by the C++ path. */
  get relayed(): { aToB: number; bToA: number } {
    return {
      aToB: this.#relayed.aToB + this.#nativeDone[0] + this.#a.nativeRelayed - this.#nativeBase[0],
      bToA: this.#relayed.bToA + this.#nativeDone[1] + this.#b.nativeRelayed - this.#nativeBase[1],
    }
  }

  /**
   * Links the legs in the C++ packet path when both run there and no tap watches, each direction
   * paused while JavaScript's would drop it (hold, a tone to the other side); otherwise each C++
   * leg hands its packets to #fromA / #fromB. Called whenever one of those conditions changes.
   */
  #wire() {
    const a = this.#a.nativeLeg
    const b = this.#b.nativeLeg
    if (a === 0 && b === 0) return
    const native = loadNativePacketPath()
    if (native === null) return
    const linked =
      !this.#closed &&
      a !== 0 &&
      b !== 0 &&
      this.#taps === null &&
      !this.#a.closed &&
      !this.#b.closed
    if (a !== 0 && !this.#a.closed)
      native.link(a, linked ? b : 0, this.#held || this.#tones[1] !== null)
    if (b !== 0 && !this.#b.closed)
      native.link(b, linked ? a : 0, this.#held || this.#tones[0] !== null)
  }

  get a(): MediaLeg {
    return this.#a
  }

  get b(): MediaLeg {
    return this.#b
  }

  #fromA = (packet: Buffer, length: number, payloadOffset: number, kind: PacketKind) => {
    if (this.#held || this.#tones[1]?.playing) return
    if (this.#taps !== null) this.#tapped('aToB', packet, length, payloadOffset, kind)
    if (this.#b.sendRelayed(packet, length, payloadOffset, kind)) this.#relayed.aToB++
  }

  #fromB = (packet: Buffer, length: number, payloadOffset: number, kind: PacketKind) => {
    if (this.#held || this.#tones[0]?.playing) return
    if (this.#taps !== null) this.#tapped('bToA', packet, length, payloadOffset, kind)
    if (this.#a.sendRelayed(packet, length, payloadOffset, kind)) this.#relayed.bToA++
  }

  /**
   * Tests only: `listener` sees every packet the bridge relays, its payload after SRTP
   * decryption, before it is sent on. Returns the function that removes the tap.
   */
  tap(listener: RelayTap): () => void {
    this.#taps = [...(this.#taps ?? []), listener]
    this.#wire()
    return () => this.untap(listener)
  }

  untap(listener: RelayTap) {
    const rest = (this.#taps ?? []).filter((tap) => tap !== listener)
    this.#taps = rest.length ? rest : null
    this.#wire()
  }

  #tapped(
    direction: 'aToB' | 'bToA',
    packet: Buffer,
    length: number,
    payloadOffset: number,
    kind: PacketKind
  ) {
    const [from, to] = direction === 'aToB' ? [this.#a, this.#b] : [this.#b, this.#a]
    const seen = {
      direction,
      from,
      to,
      payloadType: packet[1] & 0x7f,
      dtmf: kind === PacketKind.Dtmf,
      payload: Buffer.from(packet.subarray(payloadOffset, length)),
    }
    for (const tap of this.#taps ?? []) tap(seen)
  }

  refresh() {
    // Payload types are read from the legs per packet; a new negotiation may mean a new source
    this.#a.restartOutboundSource()
    this.#b.restartOutboundSource()
    this.#resetQuiet()
  }

  setHeld(held: boolean) {
    this.#held = held
    this.#wire()
    this.#resetQuiet()
  }

  replace(old: MediaLeg, next: MediaLeg) {
    if (this.#closed) throw new Error('The bridge is closed')
    const replacement = next as RelayLeg
    if (typeof replacement.sendRelayed !== 'function')
      throw new TypeError('This media leg was not created by the media engine')
    if (old === this.#a) {
      this.#unlink(this.#a)
      this.#nativeDone[0] += this.#a.nativeRelayed - this.#nativeBase[0]
      this.#a.setReceiver(null)
      this.#a = replacement
      replacement.setReceiver(this.#fromA)
      this.#nativeBase[0] = replacement.nativeRelayed
      this.#seenPackets[0] = replacement.stats.packetsReceived
    } else if (old === this.#b) {
      this.#unlink(this.#b)
      this.#nativeDone[1] += this.#b.nativeRelayed - this.#nativeBase[1]
      this.#b.setReceiver(null)
      this.#b = replacement
      replacement.setReceiver(this.#fromB)
      this.#nativeBase[1] = replacement.nativeRelayed
      this.#seenPackets[1] = replacement.stats.packetsReceived
    } else {
      throw new Error('The leg to replace is not part of this bridge')
    }
    // The other side keeps its SSRC and continues its sequence and timestamps
    this.#a.restartOutboundSource()
    this.#b.restartOutboundSource()
    this.#wire()
    this.#resetQuiet()
  }

  /** A leg leaving the bridge: its C++ link ends (it sends nothing on for us any more). */
  #unlink(leg: RelayLeg) {
    if (leg.nativeLeg !== 0 && !leg.closed) loadNativePacketPath()?.link(leg.nativeLeg, 0, false)
  }

  playTone(toward: MediaLeg, pattern: TonePattern = WARNING_TONE): Promise<number> {
    const side = this.#sideOf(toward)
    const codec = toward.negotiated?.audio.codec
    // Tones are generated as G.711; an Opus leg hears none (no encoder here): it ends at once
    return this.#play(side, codec && isG711(codec) ? toneFrames(pattern, codec) : [])
  }

  async playAnnouncement(toward: MediaLeg, announcement: Announcement): Promise<number> {
    const side = this.#sideOf(toward)
    const codec = toward.negotiated?.audio.codec
    if (!codec || !isG711(codec))
      throw new MediaFeatureUnavailableError(
        'announcement',
        `Announcements are played as G.711; this leg negotiated ${codec ?? 'no codec yet'}`
      )
    const frames = announcementFrames(await readAnnouncement(announcement), codec)
    return this.#play(side, frames)
  }

  #sideOf(leg: MediaLeg): 0 | 1 {
    if (leg !== this.#a && leg !== this.#b) throw new Error('The leg is not part of this bridge')
    return leg === this.#a ? 0 : 1
  }

  /** Plays `frames` to one side; the other side's audio waits meanwhile. */
  #play(side: 0 | 1, frames: Buffer[]): Promise<number> {
    if (this.#closed) return Promise.resolve(0)
    this.#tones[side]?.stop()
    const player = new TonePlayer(side === 0 ? this.#a : this.#b, frames)
    this.#tones[side] = player
    this.#wire()
    return player.done.finally(() => {
      if (this.#tones[side] === player) {
        this.#tones[side] = null
        this.#wire()
      }
    })
  }

  onEnded(listener: (reason: BridgeEndReason) => void) {
    this.#listeners.push(listener)
  }

  close() {
    if (this.#closed) return
    this.#closed = true
    this.#timers.clearTimeout(this.#timer)
    this.#tones[0]?.stop()
    this.#tones[1]?.stop()
    this.#unlink(this.#a)
    this.#unlink(this.#b)
    this.#a.setReceiver(null)
    this.#b.setReceiver(null)
  }

  #resetQuiet() {
    const now = this.#now()
    this.#quietSince[0] = now
    this.#quietSince[1] = now
  }

  /** Ends the bridge when a leg that should send has been silent for the timeout. */
  #checkMedia() {
    if (this.#closed) return
    const now = this.#now()
    // On hold (ours or either peer's) silence is expected from both sides
    const held = this.#held || this.#a.peerHolds || this.#b.peerHolds
    for (let side = 0; side < 2; side++) {
      const leg = side === 0 ? this.#a : this.#b
      const received = leg.stats.packetsReceived
      if (held || !leg.expectsMedia || received !== this.#seenPackets[side]) {
        this.#seenPackets[side] = received
        this.#quietSince[side] = now
      } else if (now - this.#quietSince[side] >= this.#timeoutMs) {
        this.#end('media_timeout')
        return
      }
    }
    this.#timers.schedule(this.#timer, this.#checkMs)
  }

  #end(reason: BridgeEndReason) {
    if (this.#ended) return
    this.#ended = true
    this.close()
    for (const listener of this.#listeners) listener(reason)
  }
}
