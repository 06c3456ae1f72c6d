import { test } from '@japa/runner'
import { DigestAlgorithm, DigestClient, readChallenge } from '#sip/auth/digest'
import type AuthHeader from '#sip/message/auth_header'
import type SipRequest from '#sip/message/sip_request'
import { DEFAULT_LOCKOUT } from '#sip/registrar/registrar_settings'
import AuthFailureLimiter from '#sip/registrar/auth_failure_limiter'
import MemoryCounterStore from '#core/counters/memory_counter_store'
import MemoryNonceCountStore from '#sip/registrar/memory_nonce_count_store'
import {
  REALM,
  challengeShape,
  makeDevice,
  makeHarness,
  makeWebPhoneLogin,
  register,
  registerWithPassword,
  TestClock,
  udpSource,
  wsSource,
  type Harness,
} from '#tests/unit/calls/sip/registrar/registrar_fixtures'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'

/** Credentials for `request` answering the challenge of the given algorithm among `challenges`. */
function answer(
  challenges: readonly AuthHeader[],
  request: SipRequest,
  username: string,
  password: string,
  algorithm = DigestAlgorithm.Sha256,
  client = new DigestClient({ username, password })
): string {
  const challenge = challenges.map(readChallenge).find((parsed) => parsed?.algorithm === algorithm)
  if (!challenge) {
    throw new Error(`no ${algorithm} challenge offered`)
  }
  return client.credentialsFor(challenge, request.method, request.uri.toString()).toString()
}

/** One authenticate() round with fresh challenge and credentials, as a phone would do it. */
async function attempt(
  harness: Harness,
  username: string,
  password: string,
  source = udpSource(),
  algorithm = DigestAlgorithm.Sha256
) {
  const challenges = harness.authenticator.challenge()
  const bare = register({ username })
  const authorization = answer(challenges, bare, username, password, algorithm)
  return harness.authenticator.authenticate(register({ username, authorization }), source)
}

test.group('DigestAuthenticator: challenges and verification', () => {
  test('a request without credentials gets SHA-256 and MD5 challenges for our realm, not counted as a failure', async ({
    assert,
  }) => {
    const harness = makeHarness()
    const outcome = await harness.authenticator.authenticate(
      register({ username: 'x' }),
      udpSource()
    )
    assert.equal(outcome.kind, 'challenge')
    if (outcome.kind !== 'challenge') return
    const parsed = outcome.challenges.map(readChallenge)
    assert.deepEqual(
      parsed.map((challenge) => challenge?.algorithm),
      [DigestAlgorithm.Sha256, DigestAlgorithm.Md5]
    )
    for (const challenge of parsed) {
      assert.equal(challenge?.realm, REALM)
      assert.deepEqual(challenge?.qop, ['auth'])
      assert.isFalse(challenge?.stale)
      assert.equal(harness.nonces.check(challenge!.nonce), 'fresh')
    }
    assert.lengthOf(harness.audit, 0)
  })

  test('right password with SHA-256 and with MD5 authenticates and names the device', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    for (const algorithm of [DigestAlgorithm.Sha256, DigestAlgorithm.Md5]) {
      const outcome = await attempt(
        harness,
        device.username,
        device.password,
        udpSource(),
        algorithm
      )
      assert.equal(outcome.kind, 'authenticated', algorithm)
      if (outcome.kind === 'authenticated') {
        assert.equal(sipSubjectParts(outcome.credential.subject)?.deviceId, device.owner.deviceId)
      }
    }
    assert.lengthOf(harness.audit, 0)
  })

  test('a wrong password is refused with a challenge and audited with the source IP, without credentials', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const outcome = await attempt(
      harness,
      device.username,
      'wrong-password',
      udpSource('203.0.113.9')
    )
    assert.equal(outcome.kind, 'challenge')
    assert.lengthOf(harness.audit, 1)
    const [entry] = harness.audit
    assert.equal(entry.action, 'sip.auth.failed')
    assert.equal(entry.ip, '203.0.113.9')
    assert.equal(entry.companyId, device.owner.companyId)
    assert.deepEqual(entry.target, { type: 'sip_device', id: device.owner.deviceId })
    assert.deepInclude(entry.details as object, {
      username: device.username,
      reason: 'wrong_credentials',
    })
    const logged = JSON.stringify(entry)
    assert.notInclude(logged, 'wrong-password')
    assert.notInclude(logged, 'response')
    assert.notInclude(logged, device.credential.ha1[DigestAlgorithm.Sha256]!)
  })

  test('an unknown username gets exactly the answer of a wrong password', async ({ assert }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const wrong = await registerWithPassword(harness.registrar, {
      username: device.username,
      password: 'wrong-password',
    })
    const unknown = await registerWithPassword(harness.registrar, {
      username: 'fcnobody',
      password: 'wrong-password',
    })
    assert.equal(wrong.final.status, 401)
    assert.deepEqual(challengeShape(unknown.final), challengeShape(wrong.final))
    assert.deepEqual(challengeShape(unknown.first), challengeShape(wrong.first))
    assert.deepEqual(
      harness.audit.map((entry) => [entry.action, (entry.details as any).reason]),
      [
        ['sip.auth.failed', 'wrong_credentials'],
        ['sip.auth.failed', 'unknown_username'],
      ]
    )
  })

  test('credentials whose digest uri is not the Request-URI are refused', async ({ assert }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const challenges = harness.authenticator.challenge()
    const other = register({ username: device.username, requestUri: 'sip:elsewhere.example' })
    const authorization = answer(challenges, other, device.username, device.password)
    const outcome = await harness.authenticator.authenticate(
      register({ username: device.username, authorization }),
      udpSource()
    )
    assert.equal(outcome.kind, 'challenge')
    assert.equal((harness.audit[0].details as any).reason, 'uri_mismatch')
  })

  test('a digest uri that differs only in host case still matches', async ({ assert }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const challenges = harness.authenticator.challenge()
    const upper = register({ username: device.username, requestUri: `sip:${REALM.toUpperCase()}` })
    const authorization = answer(challenges, upper, device.username, device.password)
    const outcome = await harness.authenticator.authenticate(
      register({ username: device.username, authorization }),
      udpSource()
    )
    assert.equal(outcome.kind, 'authenticated')
  })
})

test.group('DigestAuthenticator: nonces', () => {
  test('a nonce we did not issue is refused even with the right password', async ({ assert }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const [genuine] = harness.authenticator.challenge()
    const nonce = genuine.get('nonce')!
    const forged = `${nonce.slice(0, -1)}${nonce.endsWith('A') ? 'B' : 'A'}`
    const challenge = { ...readChallenge(genuine)!, nonce: forged }
    const bare = register({ username: device.username })
    const authorization = new DigestClient(device)
      .credentialsFor(challenge, 'REGISTER', bare.uri.toString())
      .toString()
    const outcome = await harness.authenticator.authenticate(
      register({ username: device.username, authorization }),
      udpSource()
    )
    assert.equal(outcome.kind, 'challenge')
    assert.equal((harness.audit[0].details as any).reason, 'foreign_nonce')
  })

  test('a stale nonce with the right password gets stale=true and is not a failure; with a wrong one it is', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const challenges = harness.authenticator.challenge()
    const bare = register({ username: device.username })
    const right = answer(challenges, bare, device.username, device.password)
    const wrong = answer(challenges, bare, device.username, 'not-it')
    harness.clock.advance(300_001)

    const outcome = await harness.authenticator.authenticate(
      register({ username: device.username, authorization: right }),
      udpSource()
    )
    assert.equal(outcome.kind, 'challenge')
    if (outcome.kind !== 'challenge') return
    assert.isTrue(outcome.challenges.every((challenge) => readChallenge(challenge)?.stale))
    assert.lengthOf(harness.audit, 0)

    const refused = await harness.authenticator.authenticate(
      register({ username: device.username, authorization: wrong }),
      udpSource()
    )
    assert.equal(refused.kind, 'challenge')
    if (refused.kind !== 'challenge') return
    assert.isTrue(refused.challenges.every((challenge) => !readChallenge(challenge)?.stale))
    assert.equal((harness.audit[0].details as any).reason, 'wrong_credentials')
  })

  test('the nonce count must grow: a replayed request is refused, the next count accepted', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const challenges = harness.authenticator.challenge()
    const client = new DigestClient(device)
    const bare = register({ username: device.username })
    const first = answer(
      challenges,
      bare,
      device.username,
      device.password,
      DigestAlgorithm.Sha256,
      client
    )
    const request = () => register({ username: device.username, authorization: first })

    assert.equal(
      (await harness.authenticator.authenticate(request(), udpSource())).kind,
      'authenticated'
    )
    const replayed = await harness.authenticator.authenticate(request(), udpSource())
    assert.equal(replayed.kind, 'challenge')
    if (replayed.kind !== 'challenge') return
    // A refresh that re-sends its old nonce (sip.js does) gets a fresh nonce, flagged stale: no event.
    assert.isTrue(replayed.challenges.every((challenge) => readChallenge(challenge)?.stale))
    assert.lengthOf(harness.audit, 0)

    // The same client reuses the nonce with nc=00000002.
    const second = answer(
      challenges,
      bare,
      device.username,
      device.password,
      DigestAlgorithm.Sha256,
      client
    )
    assert.include(second, 'nc=00000002')
    const outcome = await harness.authenticator.authenticate(
      register({ username: device.username, authorization: second }),
      udpSource()
    )
    assert.equal(outcome.kind, 'authenticated')
  })
})

test.group('DigestAuthenticator: brute force', () => {
  test('after 5 wrong passwords the username is locked: the right password is refused, identically, and the lock is audited', async ({
    assert,
  }) => {
    assert.equal(DEFAULT_LOCKOUT.usernameMaxFailures, 5)
    const device = makeDevice(1)
    const bystander = makeDevice(2)
    const harness = makeHarness([device, bystander])
    const sources = ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4', '203.0.113.5']
    for (const host of sources) {
      // Different sources: the username lock, not the source lock, is what stops this.
      assert.equal(
        (await attempt(harness, device.username, 'guess', udpSource(host))).kind,
        'challenge'
      )
    }
    assert.deepEqual(
      harness.audit.map((entry) => entry.action),
      [...Array(5).fill('sip.auth.failed'), 'sip.auth.locked']
    )
    assert.deepInclude(harness.audit[5].details as object, {
      scope: 'username',
      username: device.username,
    })

    const wrongWhileLocked = await registerWithPassword(harness.registrar, {
      username: device.username,
      password: 'guess',
      source: udpSource('203.0.113.6'),
    })
    const rightWhileLocked = await registerWithPassword(harness.registrar, {
      username: device.username,
      password: device.password,
      source: udpSource('203.0.113.6'),
    })
    assert.equal(rightWhileLocked.final.status, 401)
    assert.deepEqual(challengeShape(rightWhileLocked.final), challengeShape(wrongWhileLocked.final))
    assert.equal((harness.audit.at(-1)!.details as any).reason, 'locked')

    // Another username from another source is not affected.
    const other = await registerWithPassword(harness.registrar, {
      username: bystander.username,
      password: bystander.password,
      source: udpSource('198.51.100.99'),
    })
    assert.equal(other.final.status, 200)
  })

  test('a success clears the username failures before it: four more wrong passwords then lock nothing', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    const wrong = async (count: number) => {
      for (let index = 0; index < count; index++) {
        await attempt(harness, device.username, 'guess', udpSource(`203.0.113.${20 + index}`))
      }
    }
    await wrong(4)
    assert.equal(
      (await harness.limiter.attempt('198.51.100.1', device.username)).usernameFailures,
      4
    )
    assert.equal((await attempt(harness, device.username, device.password)).kind, 'authenticated')
    assert.equal(
      (await harness.limiter.attempt('198.51.100.1', device.username)).usernameFailures,
      0
    )
    await wrong(4)
    assert.deepEqual(await harness.limiter.locks('198.51.100.1', device.username), [])
    assert.notInclude(
      harness.audit.map((entry) => entry.action),
      'sip.auth.locked'
    )
  })

  test('a success with no failures before it writes nothing to the counters', async ({
    assert,
  }) => {
    const clock = new TestClock()
    const store = new MemoryCounterStore(clock.now)
    const resets: string[] = []
    const limiter = new AuthFailureLimiter(
      {
        increment: (key, windowSeconds, by) => store.increment(key, windowSeconds, by),
        get: (key) => store.get(key),
        getMany: (keys) => store.getMany(keys),
        reset: async (key) => {
          resets.push(key)
          await store.reset(key)
        },
      },
      DEFAULT_LOCKOUT
    )
    const quiet = await limiter.attempt('203.0.113.1', 'alice')
    assert.deepEqual(quiet, { locked: [], usernameFailures: 0 })
    await limiter.recordSuccess('alice', quiet)
    assert.deepEqual(resets, [])

    await limiter.recordFailure('203.0.113.2', 'alice')
    const after = await limiter.attempt('203.0.113.1', 'alice')
    assert.equal(after.usernameFailures, 1)
    await limiter.recordSuccess('alice', after)
    assert.lengthOf(resets, 1)
    assert.equal((await limiter.attempt('203.0.113.1', 'alice')).usernameFailures, 0)
    // Without the attempt's read (another caller), a success always clears.
    await limiter.recordSuccess('alice')
    assert.lengthOf(resets, 2)
  })

  test('the lock ends after its time, and right passwords during it do not prolong it', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    for (let index = 0; index < 5; index++) {
      await attempt(harness, device.username, 'guess', udpSource(`203.0.113.${10 + index}`))
    }
    for (let minute = 0; minute < 14; minute++) {
      harness.clock.advance(60_000)
      assert.equal((await attempt(harness, device.username, device.password)).kind, 'challenge')
    }
    harness.clock.advance(60_001)
    assert.equal((await attempt(harness, device.username, device.password)).kind, 'authenticated')
  })

  test('10 failures from one source lock the source for every username; other sources still authenticate', async ({
    assert,
  }) => {
    assert.equal(DEFAULT_LOCKOUT.sourceMaxFailures, 10)
    const device = makeDevice()
    const harness = makeHarness([device])
    const scanner = udpSource('192.0.2.66')
    for (let index = 0; index < 10; index++) {
      await attempt(harness, `fcguess${index}`, 'guess', scanner)
    }
    const locks = harness.audit.filter((entry) => entry.action === 'sip.auth.locked')
    assert.lengthOf(locks, 1)
    assert.deepInclude(locks[0].details as object, { scope: 'source' })
    assert.equal(locks[0].ip, '192.0.2.66')

    assert.equal(
      (await attempt(harness, device.username, device.password, scanner)).kind,
      'challenge'
    )
    assert.equal(
      (await attempt(harness, device.username, device.password, udpSource('198.51.100.20'))).kind,
      'authenticated'
    )
  })

  test('failures spread over more than the window do not lock', async ({ assert }) => {
    const device = makeDevice()
    const harness = makeHarness([device])
    for (let index = 0; index < 8; index++) {
      await attempt(harness, device.username, 'guess', udpSource(`203.0.113.${40 + index}`))
      // 4 failures per 15-minute window, never 5.
      if (index % 4 === 3) harness.clock.advance(15 * 60_000 + 1)
    }
    assert.equal((await attempt(harness, device.username, device.password)).kind, 'authenticated')
    assert.notInclude(
      harness.audit.map((entry) => entry.action),
      'sip.auth.locked'
    )
  })
})

test.group('DigestAuthenticator: web phone logins only over the WebSocket', () => {
  test('a web phone login with the right password is refused over UDP, TCP and TLS exactly like a wrong password, audited once as a failure', async ({
    assert,
  }) => {
    for (const protocol of ['udp', 'tcp', 'tls'] as const) {
      const login = makeWebPhoneLogin()
      const harness = makeHarness([login])
      const source = { ...udpSource('203.0.113.77'), protocol }
      const right = await registerWithPassword(harness.registrar, {
        username: login.username,
        password: login.password,
        source,
      })
      const wrong = await registerWithPassword(harness.registrar, {
        username: login.username,
        password: 'not-it',
        source,
      })
      assert.equal(right.final.status, 401, protocol)
      assert.deepEqual(challengeShape(right.final), challengeShape(wrong.final), protocol)
      assert.deepEqual(
        harness.audit.map((entry) => [
          entry.action,
          (entry.details as any).reason,
          (entry.details as any).transport,
        ]),
        [
          ['sip.auth.failed', 'transport_not_allowed', protocol],
          ['sip.auth.failed', 'wrong_credentials', protocol],
        ]
      )
      assert.deepEqual(harness.audit[0].target, {
        type: 'web_phone_credential',
        id: login.owner.webPhoneCredentialId,
      })
      assert.lengthOf(await harness.registrar.lookupSubject(userSubject(login.owner.userId)), 0)
    }
  })

  test('refusals over the wrong transport count towards the lock like wrong passwords', async ({
    assert,
  }) => {
    const login = makeWebPhoneLogin()
    const harness = makeHarness([login])
    for (let index = 0; index < DEFAULT_LOCKOUT.usernameMaxFailures; index++) {
      await attempt(harness, login.username, login.password, udpSource(`203.0.113.${80 + index}`))
    }
    assert.include(
      harness.audit.map((entry) => entry.action),
      'sip.auth.locked'
    )
  })

  test('the same login over the WebSocket authenticates', async ({ assert }) => {
    const login = makeWebPhoneLogin()
    const harness = makeHarness([login])
    const registered = await registerWithPassword(harness.registrar, {
      username: login.username,
      password: login.password,
      source: wsSource(),
    })
    assert.equal(registered.final.status, 200)
    assert.lengthOf(harness.audit, 0)
  })
})

test.group('DigestAuthenticator: locks and the phones behind them', () => {
  test('a device passes a username lock and a source lock with the right password from an address it registered from before; from a new address it is refused', async ({
    assert,
  }) => {
    const device = makeDevice(1)
    const colleague = makeDevice(2)
    const harness = makeHarness([device, colleague])
    const office = udpSource('192.0.2.10')
    assert.equal(
      (await registerWithPassword(harness.registrar, { ...device, source: office })).final.status,
      200
    )

    // Someone guesses the device's password from elsewhere (username lock), and a misconfigured
    // phone in the same office fails often enough to lock the office address too.
    for (let index = 0; index < DEFAULT_LOCKOUT.usernameMaxFailures; index++) {
      await attempt(harness, device.username, 'guess', udpSource(`203.0.113.${index + 1}`))
    }
    for (let index = 0; index < DEFAULT_LOCKOUT.sourceMaxFailures; index++) {
      await attempt(harness, `fcmistyped${index}`, 'guess', office)
    }
    assert.sameMembers(
      harness.audit
        .filter((entry) => entry.action === 'sip.auth.locked')
        .map((entry) => (entry.details as any).scope),
      ['username', 'source']
    )
    const before = harness.audit.length

    const again = await registerWithPassword(harness.registrar, {
      ...device,
      source: office,
      callId: 'again@office',
      cseq: 10,
    })
    assert.equal(
      again.final.status,
      200,
      'the right password from its own office address passes both locks'
    )
    assert.lengthOf(harness.audit, before, 'no event')

    const elsewhere = await registerWithPassword(harness.registrar, {
      ...device,
      source: udpSource('198.51.100.50'),
    })
    assert.equal(elsewhere.final.status, 401, 'a new address stays locked out')
    const wrongInOffice = await registerWithPassword(harness.registrar, {
      ...device,
      password: 'guess',
      source: office,
    })
    assert.equal(wrongInOffice.final.status, 401)
    const newInOffice = await registerWithPassword(harness.registrar, {
      ...colleague,
      source: office,
    })
    assert.equal(
      newInOffice.final.status,
      401,
      'a phone that never registered from the office waits for the lock'
    )
    assert.deepEqual(
      harness.audit.slice(before).map((entry) => [entry.ip, (entry.details as any).reason]),
      [
        ['198.51.100.50', 'locked'],
        ['192.0.2.10', 'locked'],
        ['192.0.2.10', 'locked'],
      ]
    )
  })

  test('refreshes that re-send an old nonce with the right password are never counted: many of them lock nothing and log nothing', async ({
    assert,
  }) => {
    const device = makeDevice(1)
    const neighbour = makeDevice(2)
    const harness = makeHarness([device, neighbour])
    const office = udpSource('192.0.2.20')
    const challenges = harness.authenticator.challenge()
    const bare = register({ username: device.username })
    const old = answer(challenges, bare, device.username, device.password)
    const refresh = () =>
      harness.authenticator.authenticate(
        register({ username: device.username, authorization: old }),
        office
      )
    assert.equal((await refresh()).kind, 'authenticated')
    const rounds = DEFAULT_LOCKOUT.sourceMaxFailures + DEFAULT_LOCKOUT.usernameMaxFailures
    for (let index = 0; index < rounds; index++) {
      const replayed = await refresh()
      assert.equal(replayed.kind, 'challenge')
      if (replayed.kind === 'challenge')
        assert.isTrue(readChallenge(replayed.challenges[0])?.stale, 'replayed: stale')
    }
    harness.clock.advance(300_001)
    for (let index = 0; index < rounds; index++) {
      const stale = await refresh()
      if (stale.kind === 'challenge')
        assert.isTrue(readChallenge(stale.challenges[0])?.stale, 'stale: stale')
    }
    assert.lengthOf(harness.audit, 0)
    assert.equal(
      (await attempt(harness, device.username, device.password, office)).kind,
      'authenticated'
    )
    assert.equal(
      (await attempt(harness, neighbour.username, neighbour.password, office)).kind,
      'authenticated'
    )
  })

  test('during a lock, an old nonce with the right password from an unknown address gets no stale hint (no oracle for the right password)', async ({
    assert,
  }) => {
    const device = makeDevice(1)
    const harness = makeHarness([device])
    const challenges = harness.authenticator.challenge()
    const old = answer(
      challenges,
      register({ username: device.username }),
      device.username,
      device.password
    )
    const source = udpSource('198.51.100.61')
    assert.equal(
      (
        await harness.authenticator.authenticate(
          register({ username: device.username, authorization: old }),
          source
        )
      ).kind,
      'authenticated'
    )
    for (let index = 0; index < DEFAULT_LOCKOUT.usernameMaxFailures; index++) {
      await attempt(harness, device.username, 'guess', udpSource(`203.0.113.${20 + index}`))
    }
    const replayed = await harness.authenticator.authenticate(
      register({ username: device.username, authorization: old }),
      source
    )
    assert.equal(replayed.kind, 'challenge')
    if (replayed.kind !== 'challenge') return
    assert.isFalse(readChallenge(replayed.challenges[0])?.stale)
    assert.equal((harness.audit.at(-1)!.details as any).reason, 'locked')
  })

  test('a lifted lock lets the right password through at once, and the failures before it no longer count', async ({
    assert,
  }) => {
    const device = makeDevice(1)
    const harness = makeHarness([device])
    for (let index = 0; index < DEFAULT_LOCKOUT.usernameMaxFailures; index++) {
      await attempt(harness, device.username, 'guess', udpSource(`203.0.113.${40 + index}`))
    }
    assert.equal((await attempt(harness, device.username, device.password)).kind, 'challenge')
    assert.deepEqual(await harness.limiter.locks('203.0.113.40', device.username), ['username'])

    await harness.limiter.lift('username', device.username)
    assert.deepEqual(await harness.limiter.locks('203.0.113.40', device.username), [])
    assert.equal((await attempt(harness, device.username, device.password)).kind, 'authenticated')
    // One more wrong password is the first of a new count, not the sixth.
    await attempt(harness, device.username, 'guess', udpSource('203.0.113.60'))
    assert.equal((await attempt(harness, device.username, device.password)).kind, 'authenticated')

    const scanner = '192.0.2.99'
    for (let index = 0; index < DEFAULT_LOCKOUT.sourceMaxFailures; index++) {
      await attempt(harness, `fcscan${index}`, 'guess', udpSource(scanner))
    }
    assert.deepEqual(await harness.limiter.locks(scanner, device.username), ['source'])
    await harness.limiter.lift('source', scanner)
    assert.equal(
      (await attempt(harness, device.username, device.password, udpSource(scanner))).kind,
      'authenticated'
    )
  })
})

test.group('DigestAuthenticator: shared stores out of reach', () => {
  /** Stores that fail every call as ioredis does once Redis is out of reach. */
  const unreachable = () => {
    const down = async (): Promise<never> => {
      throw new Error('Reached the max retries per request limit (which is 1).')
    }
    return {
      counters: { increment: down, get: down, getMany: down, reset: down },
      nonceCounts: { advance: down, close: async () => {} },
    }
  }

  test('the lock read and the nonce count go to the stores together, not one after the other', async ({
    assert,
  }) => {
    const device = makeDevice()
    const clock = new TestClock()
    const store = new MemoryCounterStore(clock.now)
    const counts = new MemoryNonceCountStore(clock.now)
    const calls: string[] = []
    let releaseLocks!: () => void
    const locksHeld = new Promise<void>((resolve) => (releaseLocks = resolve))
    const harness = makeHarness([device], {
      counters: {
        increment: (key, windowSeconds, by) => store.increment(key, windowSeconds, by),
        get: (key) => store.get(key),
        // The lock read answers only when the test says so.
        getMany: async (keys) => {
          calls.push('locks')
          await locksHeld
          return store.getMany(keys)
        },
        reset: (key) => store.reset(key),
      },
      nonceCounts: {
        advance: (nonce, count, ttl) => {
          calls.push('nonce count')
          return counts.advance(nonce, count, ttl)
        },
        close: () => counts.close(),
      },
    })
    const outcome = attempt(harness, device.username, device.password)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(calls, ['locks', 'nonce count'], 'both asked before the locks answered')
    releaseLocks()
    assert.equal((await outcome).kind, 'authenticated')

    // A wrong password advances no count: only the locks are read (and the failure counted).
    calls.length = 0
    const wrong = attempt(harness, device.username, 'not the password')
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(calls, ['locks'])
    assert.equal((await wrong).kind, 'challenge')
  })

  test('an authentication fails with the store error by default: never decided without its checks', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device], unreachable())
    await assert.rejects(
      () => attempt(harness, device.username, device.password),
      /max retries per request/
    )
  })

  test('storesOptional: the digest alone decides (right password in, wrong one challenged), the store error told once', async ({
    assert,
  }) => {
    const device = makeDevice()
    const harness = makeHarness([device], unreachable())
    const told: unknown[] = []
    const options = {
      storesOptional: true,
      onStoreUnavailable: (error: unknown) => told.push(error),
    }
    const withOptions = (password: string) => {
      const challenges = harness.authenticator.challenge()
      const bare = register({ username: device.username })
      const authorization = answer(challenges, bare, device.username, password)
      return harness.authenticator.authenticate(
        register({ username: device.username, authorization }),
        udpSource(),
        options
      )
    }
    const right = await withOptions(device.password)
    assert.equal(right.kind, 'authenticated')
    assert.lengthOf(told, 1, 'the lock read and the nonce count failed: told once')

    const wrong = await withOptions('not the password')
    assert.equal(wrong.kind, 'challenge')
    assert.lengthOf(told, 2)
    // The refusal is still reported (audited), only its count is lost with the store.
    assert.lengthOf(harness.audit, 1)
  })
})
