import { test } from '@japa/runner'
import SipTrafficLogger, { escapeControls } from '#sip/transport/sip_traffic_logger'
import { MemoryLogger } from '#tests/unit/calls/sip/transport/transport_fixtures'

test.group('SipTrafficLogger', () => {
  test('control characters from a peer are written escaped', ({ assert }) => {
    assert.equal(
      escapeControls('BEL:\x07 NUL:\x00 DEL:\x7f tab:\t'),
      'BEL:\\x07 NUL:\\x00 DEL:\\x7f tab:\\x09'
    )
    const memory = new MemoryLogger()
    new SipTrafficLogger(memory).failure('sip receive', new Error('bad \x1b[31m peer'))
    const line = JSON.stringify(memory.lines)
    assert.notMatch(line, /\\u001b/)
    assert.include((memory.lines[0].bindings as { error: string }).error, 'bad \\x1b[31m peer')
  })
})
