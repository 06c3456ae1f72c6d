/**
 * Ring and ringback tones generated with Web Audio: no audio files, nothing loaded from anywhere.
 * A cadence is a list of [milliseconds on, milliseconds off] repeated until stopped.
 */
export interface ToneSpec {
  frequencies: number[]
  cadence: Array<[number, number]>
  gain: number
}

/** Our own ringtone: two short bursts of a 440/480 Hz pair, then a pause. */
export const RINGTONE: ToneSpec = {
  frequencies: [440, 480],
  cadence: [
    [400, 200],
    [400, 2000],
  ],
  gain: 0.15,
}
/** German ringback (Freiton), heard while the other side rings: 425 Hz, 1 s on, 4 s off. */
export const RINGBACK: ToneSpec = { frequencies: [425], cadence: [[1000, 4000]], gain: 0.1 }

type AudioContextWithSink = AudioContext & { setSinkId?: (sinkId: string) => Promise<void> }

export class TonePlayer {
  #context: AudioContextWithSink | null = null
  #timer: ReturnType<typeof setTimeout> | null = null
  #nodes: Array<OscillatorNode | GainNode> = []
  #playing: ToneSpec | null = null

  get playing(): ToneSpec | null {
    return this.#playing
  }

  /** Browsers start audio only after a user gesture; call this from one (any click on the page). */
  unlock(): void {
    void this.#audio()
      ?.resume()
      .catch(() => {})
  }

  /** Plays on the chosen speaker where the browser allows choosing one for Web Audio. */
  async setSink(sinkId: string): Promise<void> {
    const context = this.#audio()
    if (context?.setSinkId) await context.setSinkId(sinkId).catch(() => {})
  }

  play(spec: ToneSpec): void {
    if (this.#playing === spec) return
    this.stop()
    const context = this.#audio()
    if (!context) return
    this.#playing = spec
    void context.resume().catch(() => {})
    let step = 0
    const burst = () => {
      if (this.#playing !== spec) return
      const [on, off] = spec.cadence[step % spec.cadence.length]
      step += 1
      this.#sound(context, spec, on)
      this.#timer = setTimeout(burst, on + off)
    }
    burst()
  }

  stop(): void {
    this.#playing = null
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    for (const node of this.#nodes) {
      try {
        if (node instanceof OscillatorNode) node.stop()
        node.disconnect()
      } catch {
        // already ended and disconnected
      }
    }
    this.#nodes = []
  }

  #sound(context: AudioContext, spec: ToneSpec, milliseconds: number) {
    const gain = context.createGain()
    const start = context.currentTime
    const end = start + milliseconds / 1000
    // Short ramps avoid clicks at the edges of each burst.
    gain.gain.setValueAtTime(0, start)
    gain.gain.linearRampToValueAtTime(spec.gain, start + 0.01)
    gain.gain.setValueAtTime(spec.gain, end - 0.01)
    gain.gain.linearRampToValueAtTime(0, end)
    gain.connect(context.destination)
    const oscillators = spec.frequencies.map((frequency) => {
      const oscillator = context.createOscillator()
      oscillator.frequency.value = frequency
      oscillator.connect(gain)
      oscillator.start(start)
      oscillator.stop(end)
      oscillator.onended = () => {
        oscillator.disconnect()
        this.#nodes = this.#nodes.filter((node) => node !== oscillator)
      }
      return oscillator
    })
    this.#nodes = [...this.#nodes.filter((node) => node !== gain), gain, ...oscillators]
  }

  #audio(): AudioContextWithSink | null {
    if (!this.#context && typeof AudioContext !== 'undefined') this.#context = new AudioContext()
    return this.#context
  }
}
