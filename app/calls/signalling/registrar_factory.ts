import { createHmac } from 'node:crypto'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import AuditLog from '#accounts/services/audit_log'
import SipDeviceService from '#calls/services/sip_device_service'
import {
  AuthFailureLimiter,
  DigestAuthenticator,
  DigestNonceIssuer,
  Registrar,
  type RegistrarParts,
} from '#sip'
import {
  registrarSettings,
  type RegistrarSettingsInput,
} from '#calls/signalling/registrar_settings'
import { authFailureAuditEntries } from '#calls/signalling/auth_failure_audit'
import { legacySipSubject } from '#calls/signalling/sip_subject'

export type { RegistrarParts }

/**
 * Builds the production registrar once, at boot (the SIP provider binds it): counters from the
 * container's 'counters' binding, bindings and nonce counts in Redis when REDIS_HOST is set and in
 * memory otherwise, credentials from SipDeviceService, failures to the audit log.
 */
export default class RegistrarFactory {
  static async create(overrides: RegistrarSettingsInput = {}): Promise<RegistrarParts> {
    const settings = registrarSettings(overrides)
    const counters = await app.container.make('counters')
    const { bindings, nonceCounts } = await RegistrarFactory.#stores()
    const credentials = new SipDeviceService(settings.realm)
    const authenticator = new DigestAuthenticator({
      realm: settings.realm,
      credentials,
      nonces: new DigestNonceIssuer(
        RegistrarFactory.nonceSecret(),
        settings.nonceLifetimeSeconds * 1000
      ),
      nonceCounts,
      limiter: new AuthFailureLimiter(counters, settings.lockout),
      onFailure: async (failure) => {
        for (const entry of authFailureAuditEntries(failure)) await AuditLog.record(entry)
      },
      algorithms: settings.digestAlgorithms,
    })
    const logger = await app.container.make('logger')
    const registrar = new Registrar({
      settings,
      authenticator,
      bindings,
      credentials,
      onError: (error) => logger.warn({ err: error }, 'could not note a SIP registration'),
    })
    return { registrar, authenticator, bindings, nonceCounts }
  }

  /** Derived from APP_KEY, so every node recognises every node's nonces and the key itself is never used raw. */
  static nonceSecret(): Buffer {
    return createHmac('sha256', env.get('APP_KEY').release()).update('sip-digest-nonce').digest()
  }

  static async #stores(): Promise<Pick<RegistrarParts, 'bindings' | 'nonceCounts'>> {
    const { redisEnabled } = await import('#config/redis')
    const { RedisBindingStore, RedisNonceCountStore, MemoryBindingStore, MemoryNonceCountStore } =
      await import('#sip')
    if (redisEnabled) {
      const redis = (await app.container.make('redis')).connection('main').ioConnection
      const bindings = new RedisBindingStore(redis, undefined, undefined, legacySipSubject)
      // Registrations made before bindings carried a subject keep ringing after the upgrade.
      const upgraded = await bindings.upgradeLegacy()
      if (upgraded > 0) {
        const logger = await app.container.make('logger')
        logger.info({ upgraded }, 'SIP bindings of the first format moved to subject indexes')
      }
      return { bindings, nonceCounts: new RedisNonceCountStore(redis) }
    }
    return { bindings: new MemoryBindingStore(), nonceCounts: new MemoryNonceCountStore() }
  }
}
