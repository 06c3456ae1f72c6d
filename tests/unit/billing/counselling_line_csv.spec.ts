import { test } from '@japa/runner'
import { MAX_COUNSELLING_ROWS, parseCounsellingCsv } from '#billing/counselling_line_csv'

test.group('Billing: the counselling line CSV', () => {
  test('numbers in every usual form become E.164 digits; other columns are ignored', ({
    assert,
  }) => {
    const parsed = parseCounsellingCsv(
      'Ort,Organisation,Telefonnummer\nBerlin,A,+49 30 1234500\nBund,B,116 006\nBund,C,0800-111 0 222\nWien,D,0043 1 4000\n'
    )
    assert.deepEqual(parsed.problems, [])
    assert.equal(parsed.read, 4)
    assert.deepEqual(
      parsed.lines.map((line) => [line.number, line.name]),
      [
        ['49301234500', 'A'],
        ['49116006', 'B'],
        ['498001110222', 'C'],
        ['4314000', 'D'],
      ]
    )
  })

  test('whole-file problems: an open quote, a header without numbers, no data, too many lines', ({
    assert,
  }) => {
    assert.deepEqual(parseCounsellingCsv('number\n"+49 30 1234500\n').problems, [
      { line: 0, code: 'quote' },
    ])
    assert.deepEqual(parseCounsellingCsv('name,ort\nA,Berlin\n').problems, [
      { line: 1, code: 'header' },
    ])
    assert.deepEqual(parseCounsellingCsv('\n\nnumber\n\n').problems, [{ line: 3, code: 'empty' }])
    const many = ['number', ...Array.from({ length: MAX_COUNSELLING_ROWS + 1 }, () => '116123')]
    assert.deepEqual(parseCounsellingCsv(many.join('\n')).problems, [
      { line: MAX_COUNSELLING_ROWS + 2, code: 'too_many' },
    ])
  })

  test('a formula in any cell is refused; "+49 …" is a number; an apostrophe-escaped cell stays text', ({
    assert,
  }) => {
    const parsed = parseCounsellingCsv(
      "number,name\n+49 30 1234500,ok\n-4930,minus\n+cmd,plus\n+49 30 1234501,@SUM(A1)\n+49 30 1234502,'=1+1\n"
    )
    assert.deepEqual(parsed.problems, [
      { line: 3, code: 'formula' },
      { line: 4, code: 'formula' },
      { line: 5, code: 'formula' },
    ])
    assert.deepEqual(parsed.lines[1], { number: '49301234502', name: "'=1+1" })
  })
})
