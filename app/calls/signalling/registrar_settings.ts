import app from '@adonisjs/core/services/app'
import env from '#start/env'
import {
  DEFAULT_LOCKOUT,
  DigestAlgorithm,
  type LockoutSettings,
  type RegistrarSettings,
} from '#sip'

export { DEFAULT_LOCKOUT, type LockoutSettings, type RegistrarSettings }

/**
 * The realm from `config/sip.ts` (`registrar.realm`) when the SIP config defines one, otherwise the
 * host of APP_URL, which is what customers type into their phones as the registrar.
 */
export function configuredRealm(): string {
  const fromConfig = app.config.get<string | undefined>('sip.registrar.realm', undefined)
  return fromConfig || new URL(env.get('APP_URL')).hostname
}

export type RegistrarSettingsInput = Partial<Omit<RegistrarSettings, 'lockout'>> & {
  lockout?: Partial<LockoutSettings>
}

const DEFAULTS = {
  nonceLifetimeSeconds: 300,
  minExpires: 60,
  maxExpires: 3600,
  defaultExpires: 3600,
  maxBindingsPerAor: 10,
  digestAlgorithms: [DigestAlgorithm.Md5],
}

/** Defaults, then `config/sip.ts` (`registrar`), then what the caller passes. */
export function registrarSettings(overrides: RegistrarSettingsInput = {}): RegistrarSettings {
  const { lockout: configLockout, ...fromConfig } = app.config.get<RegistrarSettingsInput>(
    'sip.registrar',
    {}
  )
  const { lockout: overrideLockout, ...given } = overrides
  return {
    ...DEFAULTS,
    realm: configuredRealm(),
    ...fromConfig,
    ...given,
    lockout: { ...DEFAULT_LOCKOUT, ...configLockout, ...overrideLockout },
  }
}
