import type { CallAttempt, CallGate, GateDecision } from '#calls/gates/call_gate'
import type { FraudConfig } from '#config/fraud'
import type FraudPolicies from '#fraud/services/fraud_policies'
import type FraudLimiter from '#fraud/services/fraud_limiter'
import type { LimitSubject } from '#fraud/services/fraud_limiter'
import type CallLeases from '#fraud/services/call_leases'
import { destinationRules, flaggedNumberRule, type FraudRefusal } from '#fraud/services/fraud_rules'

/**
 * The fraud decision for every outbound call (110/112 never get here: the B2BUA decides them
 * first). Destination rules from cached policies, then the counting limits; an allowed call holds
 * a concurrent-call lease until call:ended and carries its maximum duration.
 */
export default class FraudGate implements CallGate {
  readonly name = 'fraud'

  constructor(
    _config: FraudConfig,
    private policies: FraudPolicies,
    private limiter: FraudLimiter,
    private leases: CallLeases,
    private now: () => number = Date.now
  ) {}

  async check(attempt: CallAttempt): Promise<GateDecision> {
    const [policy, userSuspension, risk] = await Promise.all([
      this.policies.company(attempt.company),
      this.policies.userSuspension(attempt.user.id),
      this.policies.numberRisk(),
    ])
    const facts = risk.classify(attempt.destination)
    const refused =
      destinationRules(policy, userSuspension, facts) ??
      flaggedNumberRule(attempt.destination, policy.flaggedNumbers, this.now())
    if (refused) return refusal(refused)

    const subjects: LimitSubject[] = [
      { key: `company:${policy.companyId}`, limits: policy.limits.company },
      { key: `user:${attempt.user.id}`, limits: policy.limits.user },
      ...(attempt.deviceId !== null ? [{ key: `device:${attempt.deviceId}`, limits: policy.limits.device }] : []),
    ]
    const admitted = await this.limiter.admit(
      subjects,
      { companyId: policy.companyId, destination: attempt.destination, perHour: policy.callsToOneNumberPerHour },
      policy.timeZone
    )
    if ('refusal' in admitted) return refusal(admitted.refusal)
    this.leases.taken(
      attempt.callUuid,
      { companyId: policy.companyId, userId: attempt.user.id, deviceId: attempt.deviceId },
      admitted.leaseKeys
    )
    return policy.maxDurationSeconds === null
      ? { allow: true }
      : { allow: true, maxDurationSeconds: policy.maxDurationSeconds }
  }
}

function refusal({ reason, phrase }: FraudRefusal): GateDecision {
  return { allow: false, reason, status: 403, phrase }
}
