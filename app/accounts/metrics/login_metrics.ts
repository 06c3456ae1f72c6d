import { Counter } from 'prom-client'
import metrics from '#core/services/metrics'

const failures = new Counter({
  name: 'fluffycall_login_failures_total',
  help: 'Failed logins by step (password, 2fa); who and from where is in the audit log, never here',
  labelNames: ['step'] as const,
  registers: [metrics],
})

const locked = new Counter({
  name: 'fluffycall_login_locked_total',
  help: 'Login attempts refused by a lock, by step and what is locked (account, ip)',
  labelNames: ['step', 'by'] as const,
  registers: [metrics],
})

export type LoginStep = 'password' | '2fa'

export const loginMetrics = {
  failed(step: LoginStep) {
    failures.inc({ step })
  },
  locked(step: LoginStep, by: 'account' | 'ip') {
    locked.inc({ step, by })
  },
}
