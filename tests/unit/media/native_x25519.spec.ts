import { test } from '@japa/runner'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { useNativeX25519 } from '#media/native_x25519'

type Nacl = {
  scalarMult: ((n: Uint8Array, p: Uint8Array) => Uint8Array) & {
    base(n: Uint8Array): Uint8Array
  }
  box: { keyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } }
}
const nacl = createRequire(import.meta.url)('tweetnacl') as Nacl
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'hex'))

// RFC 7748 §6.1
const ALICE_PRIVATE = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'
const ALICE_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'
const BOB_PRIVATE = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'
const BOB_PUBLIC = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'

test.group('X25519 for werift: node:crypto behind tweetnacl', (group) => {
  const original = { scalarMult: nacl.scalarMult, keyPair: nacl.box.keyPair }
  group.setup(() => useNativeX25519())

  test('the functions werift calls are replaced; the RFC 7748 shared secret both ways', ({
    assert,
  }) => {
    assert.notStrictEqual(nacl.scalarMult, original.scalarMult)
    assert.notStrictEqual(nacl.box.keyPair, original.keyPair)
    assert.equal(hex(nacl.scalarMult(bytes(ALICE_PRIVATE), bytes(BOB_PUBLIC))), SHARED)
    assert.equal(hex(nacl.scalarMult(bytes(BOB_PRIVATE), bytes(ALICE_PUBLIC))), SHARED)
    // tweetnacl's own base multiplication (not replaced) agrees on the public keys
    assert.equal(hex(nacl.scalarMult.base(bytes(ALICE_PRIVATE))), ALICE_PUBLIC)
  })

  test('random key pairs agree with tweetnacl: public key, and the secret both sides reach', ({
    assert,
  }) => {
    for (let round = 0; round < 50; round++) {
      const ours = nacl.box.keyPair()
      assert.equal(hex(ours.publicKey), hex(nacl.scalarMult.base(ours.secretKey)))
      const theirs = new Uint8Array(randomBytes(32))
      const theirPublic = nacl.scalarMult.base(theirs)
      const secret = nacl.scalarMult(ours.secretKey, theirPublic)
      assert.equal(hex(secret), hex(original.scalarMult(ours.secretKey, theirPublic)))
      assert.equal(hex(secret), hex(nacl.scalarMult(theirs, ours.publicKey)))
    }
  })

  test('a low-order point (all-zero secret, refused by node:crypto) gives what tweetnacl gives', ({
    assert,
  }) => {
    const zero = new Uint8Array(32)
    const secret = nacl.scalarMult(bytes(ALICE_PRIVATE), zero)
    assert.equal(hex(secret), hex(original.scalarMult(bytes(ALICE_PRIVATE), zero)))
    assert.equal(hex(secret), '00'.repeat(32))
  })

  test('a second call changes nothing', ({ assert }) => {
    const installed = nacl.scalarMult
    useNativeX25519()
    assert.strictEqual(nacl.scalarMult, installed)
  })
})
