import { test } from '@japa/runner'
import { parseCsv, toCsv } from '#billing/price_list_csv'

const rates = [
  {
    prefix: '49',
    destination: 'Deutschland Festnetz',
    pricePerMinute: 8_900,
    connectionFee: 0,
    firstInterval: 60,
    nextInterval: 1,
  },
  {
    prefix: '4915',
    destination: 'Mobil, "D1"',
    pricePerMinute: 99_000,
    connectionFee: 15_000,
    firstInterval: 60,
    nextInterval: 60,
  },
  {
    prefix: '',
    destination: '=HYPERLINK("http://x")',
    pricePerMinute: 12_345,
    connectionFee: 1,
    firstInterval: 1,
    nextInterval: 1,
  },
]

test.group('Price list CSV', () => {
  test('export writes cents with a dot and escapes formula cells; import reads the same rates back', ({
    assert,
  }) => {
    const csv = toCsv(rates)
    const lines = csv.split('\r\n')
    assert.equal(lines[0], 'prefix,destination,price_ct_per_minute,connection_fee_ct,increment')
    assert.equal(lines[1], '49,Deutschland Festnetz,0.89,0.00,60/1')
    assert.equal(lines[2], '4915,"Mobil, ""D1""",9.90,1.50,60/60')
    assert.equal(lines[3], `,"'=HYPERLINK(""http://x"")",1.2345,0.0001,1/1`)
    assert.deepEqual(parseCsv(csv), { rates, problems: [] })
  })

  test('cells starting with + - @ are escaped too', ({ assert }) => {
    const csv = toCsv([
      { ...rates[0], destination: '+1 cmd' },
      { ...rates[0], prefix: '1', destination: '-2' },
      { ...rates[0], prefix: '2', destination: '@SUM(A1)' },
    ])
    assert.include(csv, "'+1 cmd")
    assert.include(csv, "'-2")
    assert.include(csv, "'@SUM(A1)")
  })

  test('a wrong header or any bad line refuses the file, naming the line', ({ assert }) => {
    assert.deepEqual(parseCsv('a,b\r\n49,x,1,0,60/60').problems, [{ line: 1, code: 'header' }])
    const header = 'prefix,destination,price_ct_per_minute,connection_fee_ct,increment\n'
    assert.deepEqual(
      parseCsv(
        header +
          '49,DE,0.89,0,60/1\n+49,DE,1,0,60/1\n43,AT,1;5,0,60/1\n44,UK,1,0,30/30\n49,DE again,1,0,60/1\n45,DK,1\n46,,1,0,1/1\n'
      ).problems,
      [
        { line: 3, code: 'prefix' },
        { line: 4, code: 'price' },
        { line: 5, code: 'increment' },
        { line: 6, code: 'duplicate' },
        { line: 7, code: 'columns' },
        { line: 8, code: 'destination' },
      ]
    )
    assert.deepEqual(parseCsv(header + '49,"open,1,0,60/1').problems, [{ line: 0, code: 'quote' }])
    assert.deepEqual(
      parseCsv('\uFEFF' + header + '49,DE,"0,89",0,60/1\n').rates[0].pricePerMinute,
      8_900
    )
  })
})
