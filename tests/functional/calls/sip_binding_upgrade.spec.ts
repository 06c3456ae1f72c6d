import { createHash, randomInt } from 'node:crypto'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import RegistrarFactory from '#calls/signalling/registrar_factory'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'
import { redisConfigured } from '#tests/support/redis'

/**
 * An upgrade on a running deployment: a phone registered under the release before subjects
 * (bindings with user, company and device ids in Redis) keeps ringing once the new release has
 * booted its registrar. Redis only: in memory no binding outlives the process.
 */
test.group('SIP bindings of the first format, at boot', () => {
  test('the registrar built at boot finds them under the user and knows the device', async ({
    assert,
  }) => {
    // The same connection and key names the factory uses (REDIS_PREFIX applies to both).
    const redis = (await app.container.make('redis')).connection('main').ioConnection
    const prefix = 'fluffycall:sip:bindings:'
    const userId = 900_000 + randomInt(99_999)
    const now = Date.now()
    const old = {
      aor: `sip:fcupgrade${userId}@sip.fluffycall.test`,
      contactUri: `sip:phone@192.0.2.77:5062`,
      contact: '<sip:phone@192.0.2.77:5062>',
      expiresAt: now + 600_000,
      registeredAt: now,
      callId: 'before-the-upgrade',
      cseq: 2,
      source: { protocol: 'udp', host: '192.0.2.77', port: 5062 },
      userId,
      companyId: 41,
      deviceId: 42,
    }
    const id = createHash('sha256').update(`${old.aor}\n${old.contactUri}`).digest('base64url')
    await redis
      .multi()
      .set(`${prefix}binding:${id}`, JSON.stringify(old), 'PX', 600_000)
      .zadd(`${prefix}aor:${old.aor}`, old.expiresAt, id)
      .zadd(`${prefix}user:${userId}`, old.expiresAt, id)
      .exec()
    try {
      const { registrar } = await RegistrarFactory.create()
      const bindings = await registrar.lookupSubject(userSubject(userId))
      assert.deepEqual(
        bindings.map((binding) => [binding.contactUri, sipSubjectParts(binding.subject)]),
        [[old.contactUri, { userId, companyId: 41, deviceId: 42 }]]
      )
    } finally {
      const subject = `user:${userId}`
      await redis.del(
        `${prefix}binding:${id}`,
        `${prefix}aor:${old.aor}`,
        `${prefix}user:${userId}`,
        `${prefix}subject:${subject}`,
        `${prefix}subject:${subject}/company:41`,
        `${prefix}subject:${subject}/company:41/device:42`
      )
    }
  }).skip(!redisConfigured, 'needs Redis (REDIS_HOST): in memory nothing outlives a restart')
})
