import { test } from '@japa/runner'
import { readFile } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import i18nManager from '@adonisjs/i18n/services/main'
import { TOM_SECTIONS, tomItemKeys } from '#privacy/technical_measures'
import { assertSecureAppUrl } from '#core/secure_app_url'
import { LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_IP } from '#accounts/services/login_service'
import { ACCOUNT_END_GRACE_DAYS } from '#privacy/services/account_end_service'
import { RETENTION_PERIODS } from '#billing/retention'
import { APPLICATION_LOG_RETENTION_DAYS } from '#config/logger'

/**
 * Every statement of the TOMs page (and SCC Annex II) names the tests that fail when it stops being
 * true: a statement without a proof, or a proof whose test is gone or renamed, fails here.
 */
const PROOFS: Record<string, Array<[file: string, title: string]>> = {
  'encryption.0': [
    ['tests/unit/privacy/tom_claims.spec.ts', 'production refuses an APP_URL that is not https'],
    ['tests/unit/calls/phone/origin_check.spec.ts', ''],
  ],
  'encryption.1': [['tests/unit/calls/carriers/carrier_config.spec.ts', 'SDES-SRTP only over TLS']],
  'encryption.2': [
    [
      'tests/functional/calls/carrier_secrets.spec.ts',
      'a canary password is used by the plugin but absent from pages, JSON, audit, log lines and the raw database',
    ],
  ],
  'access.0': [
    [
      'tests/functional/accounts/rbac.spec.ts',
      'a superadmin removes company.users.manage from admin: the company admin loses the team page',
    ],
    [
      'tests/functional/accounts/access_matrix.spec.ts',
      'each route admits exactly the expected roles',
    ],
  ],
  'access.1': [
    [
      'tests/functional/accounts/approval.spec.ts',
      'staff without 2FA are sent to the 2FA set-up and change nothing',
    ],
    [
      'tests/functional/accounts/two_factor.spec.ts',
      'the password step of a 2FA user leads to the code page without logging in',
    ],
  ],
  'access.2': [
    [
      'tests/functional/accounts/audit.spec.ts',
      "a customer admin sees only their own company's entries",
    ],
    [
      'tests/functional/accounts/access_matrix.spec.ts',
      'each route admits exactly the expected roles',
    ],
  ],
  'logging.0': [
    ['tests/functional/accounts/audit.spec.ts', 'the AuditEntry model refuses updates and deletes'],
  ],
  'logging.1': [
    [
      'tests/unit/accounts/audit_retention.spec.ts',
      'shortens IPs older than 7 days, deletes entries older than 12 months, leaves recent ones',
    ],
  ],
  'logging.2': [
    [
      'tests/unit/privacy/tom_claims.spec.ts',
      'the application logs’ retention: statement, README and journald config agree',
    ],
    [
      'tests/unit/core/log_targets.spec.ts',
      'production: JSON lines to stdout; development: pino-pretty; tests: their own file',
    ],
  ],
  'fraud.0': [
    [
      'tests/functional/accounts/lockout.spec.ts',
      'after 5 wrong passwords from one IP even the right password is refused with the lock message',
    ],
    [
      'tests/functional/accounts/lockout_scopes.spec.ts',
      'failures for many accounts from one IP lock the IP, not the accounts',
    ],
    [
      'tests/functional/accounts/lockout_scopes.spec.ts',
      'a known device logs in while the account is locked, but not from a locked IP',
    ],
    [
      'tests/functional/accounts/lockout_scopes.spec.ts',
      "wrong 2FA codes lock the account's second step from any IP, audited",
    ],
    ['tests/functional/calls/sip_locks.spec.ts', ''],
  ],
  'fraud.1': [
    [
      'tests/unit/calls/routing/route_resolver.spec.ts',
      'emergency calls ignore the EU-only preference and objections',
    ],
    [
      'tests/e2e/fraud/fraud_gate_calls.spec.ts',
      '112 connects while the company is suspended for all outbound calls',
    ],
  ],
  'residency.0': [
    [
      'tests/unit/calls/routing/route_resolver.spec.ts',
      'EU-only never gets a carrier processing outside the EU/EEA',
    ],
    [
      'tests/unit/calls/routing/route_resolver.spec.ts',
      'EU-only with only non-EU carriers is refused with a clear reason, never leaked',
    ],
  ],
  'residency.1': [
    [
      'tests/unit/calls/routing/route_resolver.spec.ts',
      'a carrier the company objected to is excluded, and objecting to all is refused',
    ],
  ],
  'retention.0': [
    [
      'tests/functional/calls/call_retention.spec.ts',
      'deletes CDRs that started more than 6 months ago, keeps younger ones',
    ],
    ['tests/unit/privacy/call_content_schema.spec.ts', ''],
    [
      'tests/functional/privacy/call_record_holds.spec.ts',
      'the retention job keeps the held period of that company until the hold is released',
    ],
  ],
  'retention.1': [
    [
      'tests/functional/privacy/account_end.spec.ts',
      'deletes the account data when due, keeps the invoices, and goes with the last invoice',
    ],
  ],
}

test.group('TOMs: every statement is proved by a test', () => {
  test('each statement has proofs, and each proof exists', async ({ assert }) => {
    const keys = TOM_SECTIONS.flatMap((section) =>
      tomItemKeys(section).map((key) => key.replace('transparency.toms.', ''))
    )
    assert.sameMembers(Object.keys(PROOFS), keys, 'a proof for every statement, and only those')
    for (const [key, proofs] of Object.entries(PROOFS)) {
      assert.isAbove(proofs.length, 0, key)
      for (const [file, title] of proofs) {
        const source = await readFile(app.makePath(file), 'utf8')
        if (title) assert.include(source, title, `${key}: "${title}" in ${file}`)
      }
    }
  })

  test('the figures in the statements are the figures of the code', ({ assert }) => {
    for (const locale of ['de', 'en']) {
      const i18n = i18nManager.locale(locale)
      const figure = (value: number) => new RegExp(`\\b${value}\\b`)
      const lockout = i18n.t('transparency.toms.fraud.0')
      assert.match(lockout, figure(LOGIN_MAX_FAILURES))
      assert.match(lockout, figure(LOGIN_MAX_FAILURES_PER_IP))
      const accountEnd = i18n.t('transparency.toms.retention.1')
      assert.match(accountEnd, figure(ACCOUNT_END_GRACE_DAYS))
      assert.match(accountEnd, figure(RETENTION_PERIODS.invoices.years))
    }
  })

  test('production refuses an APP_URL that is not https', ({ assert }) => {
    assert.throws(() => assertSecureAppUrl('http://phone.example.com', true), /https/)
    assert.doesNotThrow(() => assertSecureAppUrl('https://phone.example.com', true))
    assert.doesNotThrow(() => assertSecureAppUrl('http://localhost:3333', false))
  })

  test('the application logs’ retention: statement, README and journald config agree', async ({
    assert,
  }) => {
    const days = APPLICATION_LOG_RETENTION_DAYS
    for (const locale of ['de', 'en']) {
      const statement = i18nManager.locale(locale).t('transparency.toms.logging.2')
      assert.match(statement, new RegExp(`\\b${days} (Tage|days)\\b`), locale)
    }
    // journald deletes after that long (the file the README installs) ...
    const journald = await readFile(app.makePath('deploy/journald/fluffycall.conf'), 'utf8')
    const settings = journald.split('\n').filter((line) => line.trim() && !line.startsWith('#'))
    assert.deepEqual(settings, ['[Journal]', `MaxRetentionSec=${days}day`])
    // ... the service logs into it ...
    const unit = await readFile(app.makePath('deploy/systemd/fluffycall.service'), 'utf8')
    assert.match(unit, /^StandardOutput=journal$/m)
    // ... and the README's production set-up installs it and says the same
    const readme = await readFile(app.makePath('README.md'), 'utf8')
    const step = readme.slice(readme.indexOf('7. **Logs**'), readme.indexOf('## Backups'))
    assert.include(
      step,
      'install -D -m 0644 deploy/journald/fluffycall.conf /etc/systemd/journald.conf.d/fluffycall.conf'
    )
    assert.include(step, `MaxRetentionSec=${days}day`)
    assert.include(step, `${days} days`)
  })
})
