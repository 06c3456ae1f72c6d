import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'

/** One outbound call attempt as the gates see it; emergency calls never reach a gate. */
export interface CallAttempt {
  company: Company
  user: User
  /** E.164 with "+", after normalisation and routing. */
  destination: string
  carrierNames: string[]
  /** The CDR of this attempt: a gate that takes a lease releases it when this call ends. */
  callUuid: string
  /** The customer's own SIP device that places the call; null for the web phone. */
  deviceId: number | null
  /** The address the INVITE came from. */
  sourceAddress: string
  /** How the call came about: dialled, a forwarding, a transfer or placed through the API. */
  kind: CallKind
  /** The carrier's price per minute in euro cents; null until billing rates calls. */
  pricePerMinuteCents: number | null
}

/** One inbound call from a carrier to a company's number, as the gates see it. */
export interface InboundCallAttempt {
  company: Company
  /** The called number (ours), E.164 with "+". */
  number: string
  callUuid: string
}

export type CallKind = 'direct' | 'forward' | 'transfer' | 'api'

/** Why a gate limits a call's duration: its CDR cause when the limit ends it. */
export type DurationCause = 'max_duration' | 'spend_cap'

export type GateDecision =
  /**
   * `maxDurationSeconds`: the call is ended after this long (the shortest of all gates wins), with
   * CDR cause `durationCause` ('max_duration' unless a gate says why otherwise, e.g. 'spend_cap').
   */
  | { allow: true; maxDurationSeconds?: number; durationCause?: DurationCause }
  /** `reason` is a stable code for logs and the CDR; `status` the SIP answer (403 unless given). */
  | { allow: false; reason: string; status?: number; phrase?: string }

/**
 * A rule a call must pass before it is routed (ARCHITECTURE.md: company active, DPA accepted,
 * fraud decision, spend cap). Other modules (fraud, privacy, billing) register theirs at boot;
 * calls never imports them.
 */
export interface CallGate {
  readonly name: string
  check(attempt: CallAttempt): Promise<GateDecision>
  /** Inbound calls from carriers; a gate without it lets every inbound call pass. */
  checkInbound?(attempt: InboundCallAttempt): Promise<GateDecision>
}

/** The gates of this process, run in registration order; the first refusal wins. */
export class CallGateRegistry {
  #gates: CallGate[] = []

  /** A gate of the same name is replaced; `before` puts the gate ahead of the named one. */
  register(gate: CallGate, options: { before?: string } = {}) {
    const others = this.#gates.filter((existing) => existing.name !== gate.name)
    const at =
      options.before === undefined
        ? -1
        : others.findIndex((existing) => existing.name === options.before)
    this.#gates =
      at === -1 ? [...others, gate] : [...others.slice(0, at), gate, ...others.slice(at)]
  }

  unregister(name: string) {
    this.#gates = this.#gates.filter((gate) => gate.name !== name)
  }

  get names() {
    return this.#gates.map((gate) => gate.name)
  }

  async check(attempt: CallAttempt): Promise<GateDecision & { gate?: string }> {
    let maxDurationSeconds: number | undefined
    let durationCause: DurationCause | undefined
    for (const gate of this.#gates) {
      const decision = await gate.check(attempt)
      if (!decision.allow) return { ...decision, gate: gate.name }
      if (
        decision.maxDurationSeconds !== undefined &&
        decision.maxDurationSeconds < (maxDurationSeconds ?? Infinity)
      ) {
        maxDurationSeconds = decision.maxDurationSeconds
        durationCause = decision.durationCause
      }
    }
    if (maxDurationSeconds === undefined) return { allow: true }
    return durationCause
      ? { allow: true, maxDurationSeconds, durationCause }
      : { allow: true, maxDurationSeconds }
  }

  /** The inbound checks of the gates that have one; the first refusal wins. */
  async checkInbound(attempt: InboundCallAttempt): Promise<GateDecision & { gate?: string }> {
    for (const gate of this.#gates) {
      const decision = gate.checkInbound
        ? await gate.checkInbound(attempt)
        : { allow: true as const }
      if (!decision.allow) return { ...decision, gate: gate.name }
    }
    return { allow: true }
  }
}
