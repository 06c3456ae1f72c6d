import { test } from '@japa/runner'
import { createHash } from 'node:crypto'
import { FrameCipher, RATCHET_MS } from '../../../../resources/js/phone/e2ee/frame_cipher.js'
import { parseHeader, TAG_BYTES } from '../../../../resources/js/phone/e2ee/sframe.js'

const key = (byte: number) => new Uint8Array(16).fill(byte)
const frame = (length: number, seed: number) =>
  Uint8Array.from({ length }, (_, index) => (index * 31 + seed) & 0xff)

/** Alice's sender and Bob's receiver (and back) with crossed keys, on a shared manual clock. */
async function connected(clock: { now: number }) {
  const alice = new FrameCipher('drop', () => clock.now)
  const bob = new FrameCipher('drop', () => clock.now)
  await alice.command({ type: 'keys', epoch: 1, sendKey: key(1), receiveKey: key(2) })
  await bob.command({ type: 'keys', epoch: 1, sendKey: key(2), receiveKey: key(1) })
  return { alice, bob }
}

test.group('E2EE: what the transform worker does to frames', () => {
  test('before the keys nothing leaves and nothing is decoded; passthrough and empty frames pass', async ({
    assert,
  }) => {
    const waiting = new FrameCipher('drop')
    assert.isNull(await waiting.outgoing(frame(60, 1)))
    assert.isNull(await waiting.incoming(frame(60, 1)))
    assert.lengthOf((await waiting.outgoing(new Uint8Array(0)))!, 0)

    const undecided = new FrameCipher('undecided')
    assert.isNull(
      await undecided.outgoing(frame(60, 1)),
      'a placed call sends nothing before the answer'
    )
    assert.deepEqual(await undecided.incoming(frame(60, 1)), frame(60, 1), 'early media is heard')

    const plain = new FrameCipher('passthrough')
    assert.deepEqual(await plain.outgoing(frame(160, 2)), frame(160, 2))
    assert.deepEqual(await plain.incoming(frame(160, 2)), frame(160, 2))
  })

  test('frames are SFrame ciphertext of plaintext length plus header and tag, and decrypt on the other side', async ({
    assert,
  }) => {
    const { alice, bob } = await connected({ now: 0 })
    for (let index = 0; index < 10; index++) {
      const plaintext = frame(60 + index, index)
      const sent = (await alice.outgoing(plaintext))!
      const header = parseHeader(sent)
      assert.equal(header.kid, 0n)
      assert.equal(header.ctr, BigInt(index))
      assert.equal(sent.length, header.length + plaintext.length + TAG_BYTES)
      assert.notDeepEqual(sent.subarray(header.length, header.length + plaintext.length), plaintext)
      assert.deepEqual(await bob.incoming(sent), plaintext)
    }
    // Bob cannot read his own frames back (one key per direction), nor garbage.
    const own = (await bob.outgoing(frame(50, 9)))!
    assert.isNull(await bob.incoming(own))
    assert.isNull(await bob.incoming(frame(50, 9)))
    // A transfer to a SIP phone: frames pass unchanged again.
    await alice.command({ type: 'mode', mode: 'passthrough' })
    assert.deepEqual(await alice.outgoing(frame(160, 3)), frame(160, 3))
  })

  test('after ten minutes the sender ratchets to the next KID; the receiver follows and keeps the previous key', async ({
    assert,
  }) => {
    const clock = { now: 0 }
    const { alice, bob } = await connected(clock)
    const late = (await alice.outgoing(frame(40, 1)))!
    clock.now += RATCHET_MS
    const next = (await alice.outgoing(frame(40, 2)))!
    assert.equal(parseHeader(next).kid, 1n)
    assert.equal(parseHeader(next).ctr, 0n)
    assert.deepEqual(await bob.incoming(next), frame(40, 2))
    assert.deepEqual(
      await bob.incoming(late),
      frame(40, 1),
      'a frame of the previous key still under way'
    )
    clock.now += RATCHET_MS
    await alice.outgoing(frame(40, 3))
    clock.now += RATCHET_MS
    const third = (await alice.outgoing(frame(40, 4)))!
    assert.equal(parseHeader(third).kid, 3n)
    assert.deepEqual(await bob.incoming(third), frame(40, 4), 'a missed ratchet step is caught up')
    assert.isNull(await bob.incoming(late), 'keys two steps back are gone')
  })

  test('test hooks: the sender records what it was given; the receiver can hand on ciphertext', async ({
    assert,
  }) => {
    const { alice, bob } = await connected({ now: 0 })
    await alice.command({ type: 'test-hooks', recordFrames: 2, decrypt: true })
    const first = frame(70, 5)
    await alice.outgoing(first)
    await alice.outgoing(frame(71, 6))
    const third = (await alice.outgoing(frame(72, 7)))!
    assert.deepEqual(
      alice.recorded.map((entry) => [entry.length, entry.ctr, entry.kid]),
      [
        [70, 0, 0],
        [71, 1, 0],
      ]
    )
    assert.equal(alice.recorded[0].sha256, createHash('sha256').update(first).digest('hex'))
    await bob.command({ type: 'test-hooks', recordFrames: 0, decrypt: false })
    assert.deepEqual(await bob.incoming(third), third)
  })
})
