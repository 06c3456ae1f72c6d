import { test } from '@japa/runner'
import {
  DigestAlgorithm,
  DigestClient,
  computeDigestResponse,
  computeHa1,
  createChallenge,
  readChallenge,
  selectChallenge,
  verifyCredentials,
} from '#sip/auth/digest'
import AuthHeader from '#sip/message/auth_header'
import { options, parseRequest, parseResponse } from '#tests/unit/calls/sip/sip_fixtures'

/** RFC 7616 3.9.1. */
const RFC7616 = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  uri: '/dir/index.html',
  method: 'GET',
  nc: '00000001',
}

function challengeResponse(status: 401 | 407, ...challenges: string[]) {
  const header = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'
  return parseResponse(
    [
      `SIP/2.0 ${status} Auth`,
      'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKopt1;rport',
      'From: <sip:ping@fluffycall.example>;tag=abc',
      'To: <sip:carrier.example.net>;tag=srv',
      'Call-ID: opt-1@192.0.2.1',
      'CSeq: 7 OPTIONS',
      ...challenges.map((challenge) => `${header}: ${challenge}`),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n')
  )
}

test.group('Digest / published test vectors', () => {
  test('RFC 2617 3.5: MD5, qop=auth', ({ assert }) => {
    const ha1 = computeHa1(DigestAlgorithm.Md5, 'Mufasa', 'testrealm@host.com', 'Circle Of Life')
    const response = computeDigestResponse({
      algorithm: DigestAlgorithm.Md5,
      ha1,
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    })
    assert.equal(response, '6629fae49393a05397450978507c4ef1')
  })

  test('RFC 7616 3.9.1: SHA-256 and MD5', ({ assert }) => {
    for (const [algorithm, expected] of [
      [DigestAlgorithm.Sha256, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
      [DigestAlgorithm.Md5, '8ca523f5e9506fed4657c9700eebdbec'],
    ] as const) {
      const response = computeDigestResponse({
        algorithm,
        ha1: computeHa1(algorithm, RFC7616.username, RFC7616.realm, RFC7616.password),
        nonce: RFC7616.nonce,
        method: RFC7616.method,
        uri: RFC7616.uri,
        qop: 'auth',
        nc: RFC7616.nc,
        cnonce: RFC7616.cnonce,
      })
      assert.equal(response, expected, algorithm)
    }
  })

  test('the client reproduces the RFC 7616 SHA-256 Authorization', ({ assert }) => {
    const client = new DigestClient(
      { username: RFC7616.username, password: RFC7616.password },
      () => RFC7616.cnonce
    )
    const challenge = readChallenge(
      AuthHeader.parse(
        `Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=SHA-256, nonce="${RFC7616.nonce}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`
      )
    )
    assert.isDefined(challenge)
    const header = client.credentialsFor(challenge!, RFC7616.method, RFC7616.uri)
    assert.equal(
      header.get('response'),
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'
    )
    assert.equal(header.get('nc'), '00000001')
    assert.equal(header.get('opaque'), 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS')
    assert.include(
      header.toString(),
      'qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"'
    )
  })
})

test.group('Digest / SIP client', () => {
  test('answers a 401 with Authorization and a 407 with Proxy-Authorization', ({ assert }) => {
    const request = parseRequest(options())
    const client = new DigestClient({ username: 'alice', password: 'secret' }, () => 'cn')
    const www = client.authorize(
      challengeResponse(401, 'Digest realm="sip.example", nonce="n1", qop="auth"'),
      request
    )
    assert.equal(www?.name, 'Authorization')
    const proxy = client.authorize(
      challengeResponse(407, 'Digest realm="sip.example", nonce="n2"'),
      request
    )
    assert.equal(proxy?.name, 'Proxy-Authorization')
    const parsed = AuthHeader.parse(proxy!.value)
    assert.isUndefined(parsed.get('qop'))
    assert.equal(parsed.get('uri'), 'sip:carrier.example.net')
    assert.equal(parsed.get('algorithm'), 'MD5')
  })

  test('counts nonce uses and starts over for a new nonce', ({ assert }) => {
    const request = parseRequest(options())
    const client = new DigestClient({ username: 'alice', password: 'secret' })
    const first = challengeResponse(401, 'Digest realm="r", nonce="same", qop="auth"')
    const counts = [1, 2, 3].map(() =>
      AuthHeader.parse(client.authorize(first, request)!.value).get('nc')
    )
    assert.deepEqual(counts, ['00000001', '00000002', '00000003'])
    const fresh = challengeResponse(401, 'Digest realm="r", nonce="other", qop="auth"')
    assert.equal(AuthHeader.parse(client.authorize(fresh, request)!.value).get('nc'), '00000001')
  })

  test('prefers SHA-256 over MD5 and skips unknown algorithms (RFC 8760)', ({ assert }) => {
    const response = challengeResponse(
      401,
      'Digest realm="r", nonce="a", algorithm=MD5, qop="auth"',
      'Digest realm="r", nonce="b", algorithm=SHA-256, qop="auth"',
      'Digest realm="r", nonce="c", algorithm=UNKNOWN-1, qop="auth"'
    )
    const challenge = selectChallenge(response.wwwAuthenticate)
    assert.equal(challenge?.algorithm, DigestAlgorithm.Sha256)
    assert.equal(challenge?.nonce, 'b')
  })

  test('returns nothing for a challenge it cannot answer', ({ assert }) => {
    const client = new DigestClient({ username: 'alice', password: 'secret' })
    const request = parseRequest(options())
    assert.isUndefined(client.authorize(challengeResponse(401, 'Basic realm="x"'), request))
    assert.isUndefined(client.authorize(challengeResponse(401, 'Digest nonce="no-realm"'), request))
  })
})

test.group('Digest / server verification', () => {
  for (const algorithm of [
    DigestAlgorithm.Md5,
    DigestAlgorithm.Sha256,
    DigestAlgorithm.Sha256Sess,
  ]) {
    test(`accepts the right password and refuses a wrong one (${algorithm})`, ({ assert }) => {
      const request = parseRequest(options())
      const realm = 'customers.fluffycall.example'
      const ha1 = computeHa1(algorithm, 'desk-101', realm, 'correct horse')
      const challenge = readChallenge(createChallenge({ realm, nonce: 'srv-nonce', algorithm }))!
      const expected = { ha1, algorithm, realm, method: request.method }

      const good = new DigestClient({ username: 'desk-101', password: 'correct horse' })
      const credentials = good.credentialsFor(challenge, request.method, request.uri.toString())
      assert.isTrue(verifyCredentials(AuthHeader.parse(credentials.toString()), expected))

      const bad = new DigestClient({ username: 'desk-101', password: 'wrong' })
      const wrong = bad.credentialsFor(challenge, request.method, request.uri.toString())
      assert.isFalse(verifyCredentials(wrong, expected))
      assert.isFalse(verifyCredentials(credentials, { ...expected, method: 'INVITE' }))
      assert.isFalse(verifyCredentials(credentials, { ...expected, realm: 'other' }))
    })
  }

  test('refuses credentials with missing or malformed fields', ({ assert }) => {
    const expected = { ha1: 'x', algorithm: DigestAlgorithm.Md5, realm: 'r', method: 'REGISTER' }
    for (const text of [
      'Basic dXNlcjpwYXNz',
      'Digest realm="r", nonce="n", uri="sip:r"',
      'Digest realm="r", nonce="n", uri="sip:r", response="abc", qop=auth',
      'Digest realm="r", nonce="n", uri="sip:r", response="abc", qop=auth, nc=1, cnonce="c"',
      'Digest realm="r", nonce="n", uri="sip:r", response="abc", algorithm=SHA-256',
    ]) {
      assert.isFalse(verifyCredentials(AuthHeader.parse(text), expected), text)
    }
  })
})
