import { test } from '@japa/runner'
import SourceList from '#sip/transport/source_list'

test.group('SourceList', () => {
  test('answers the same for an address asked again, past the bound of kept answers', ({
    assert,
  }) => {
    const list = new SourceList(['192.0.2.7', '198.51.100.0/24', '2001:db8::/32'])
    const asked = ['192.0.2.7', '::ffff:192.0.2.7', '198.51.100.9', '2001:db8::1', '192.0.2.8']
    const expected = [true, true, true, true, false]
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(
        asked.map((address) => list.has(address)),
        expected,
        `round ${round}`
      )
      // More distinct addresses than the list keeps answers for
      for (let i = 0; i < 1500; i++) {
        const address = `10.${round}.${i >> 8}.${i & 255}`
        assert.isFalse(list.has(address))
        assert.equal(list.has(`198.51.100.${i & 255}`), true)
      }
    }
    assert.isFalse(list.has('not an address'))
    assert.isFalse(list.has('not an address'))
    assert.isFalse(new SourceList([]).has('192.0.2.7'))
  })
})
