import { test } from '@japa/runner'
import { webPhoneOrigins } from '#sip/transport/loopback_origins'
// Browser code (bundled by Vite) has no subpath import; it is plain TypeScript without DOM use here.
import { originAllowed } from '../../../../resources/js/phone/origin_check.js'

test.group('Web phone: which page origins the SIP WebSocket takes', () => {
  test('outside production localhost, 127.0.0.1 and [::1] are one server; in production only the configured origin', ({
    assert,
  }) => {
    assert.deepEqual(webPhoneOrigins('http://localhost:3333', false), [
      'http://localhost:3333',
      'http://127.0.0.1:3333',
      'http://[::1]:3333',
    ])
    assert.deepEqual(webPhoneOrigins('http://127.0.0.1:3333', false)[0], 'http://127.0.0.1:3333')
    assert.include(webPhoneOrigins('http://127.0.0.1:3333', false), 'http://localhost:3333')
    assert.deepEqual(webPhoneOrigins('http://localhost:3333', true), ['http://localhost:3333'])
    assert.deepEqual(webPhoneOrigins('https://phone.fluffycall.de', false), [
      'https://phone.fluffycall.de',
    ])
  })

  test('the page knows whether its own origin is among them', ({ assert }) => {
    assert.isTrue(
      originAllowed('http://localhost:3333', 'http://localhost:3333 http://127.0.0.1:3333')
    )
    assert.isFalse(originAllowed('http://127.0.0.1:3333', 'http://localhost:3333'))
    assert.isTrue(originAllowed('http://127.0.0.1:3333', ''), 'no list: nothing to say')
  })
})
