import type { SipTarget } from '#sip/resolver/sip_target'

/** Every target failed; `errors` holds each target's failure, in the order tried. */
export class FailoverExhaustedError extends AggregateError {
  constructor(
    errors: unknown[],
    readonly targets: SipTarget[]
  ) {
    super(
      errors,
      targets.length === 0 ? 'no targets to try' : `all ${targets.length} targets failed`
    )
  }
}

/**
 * Tries the targets in order (RFC 3263 4.3) until `attempt` resolves; `attempt` decides what a
 * failure is (a transport error, a timeout, a 503) by throwing.
 */
export default async function withFailover<T>(
  targets: readonly SipTarget[],
  attempt: (target: SipTarget, index: number) => Promise<T>
): Promise<T> {
  const errors: unknown[] = []
  for (const [index, target] of targets.entries()) {
    try {
      return await attempt(target, index)
    } catch (error) {
      errors.push(error)
    }
  }
  throw new FailoverExhaustedError(errors, [...targets])
}
