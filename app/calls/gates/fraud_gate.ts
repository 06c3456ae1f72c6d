import type { CallAttempt, CallGate, GateDecision } from '#calls/gates/call_gate'

/**
 * The place of the fraud decision in the call path. It allows everything until the fraud module
 * registers its own gate under the same name (CallGateRegistry.register replaces it).
 */
export default class PermissiveFraudGate implements CallGate {
  readonly name = 'fraud'

  async check(_attempt: CallAttempt): Promise<GateDecision> {
    return { allow: true }
  }
}
