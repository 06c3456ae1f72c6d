import { test } from '@japa/runner'
import { EU_COUNTRIES, isValidVatId, normalizeVatId } from '#accounts/vat_id'

test.group('VAT ID format per EU country', () => {
  test('valid formats pass for their own country: {$self}')
    .with([
      ['DE', 'DE123456789'],
      ['AT', 'ATU12345678'],
      ['FR', 'FRXX123456789'],
      ['NL', 'NL123456789B01'],
      ['BE', 'BE0123456789'],
      ['ES', 'ESX1234567X'],
      ['IE', 'IE1234567WA'],
      ['GR', 'EL123456789'],
      ['PL', 'PL1234567890'],
    ] as const)
    .run(({ assert }, [country, vatId]) => {
      assert.isTrue(isValidVatId(vatId, country))
    })

  test('wrong formats are refused: {$self}')
    .with([
      ['DE', 'DE12345'],
      ['DE', 'DE1234567890'],
      ['DE', 'ATU12345678'],
      ['AT', 'AT12345678'],
      ['AT', 'DE123456789'],
      ['NL', 'NL123456789'],
      ['BE', 'BE2123456789'],
      ['GR', 'GR123456789'],
      ['DE', ''],
    ] as const)
    .run(({ assert }, [country, vatId]) => {
      assert.isFalse(isValidVatId(vatId, country))
    })

  test('countries outside the EU have no format and are refused', ({ assert }) => {
    assert.isFalse(isValidVatId('CHE123456789', 'CH'))
    assert.isFalse(isValidVatId('GB123456789', 'GB'))
  })

  test('spaces, dots, dashes and lower case are normalised before the check', ({ assert }) => {
    assert.equal(normalizeVatId(' de 123.456-789 '), 'DE123456789')
    assert.isTrue(isValidVatId('de 123 456 789', 'DE'))
    assert.isTrue(isValidVatId('ATU 1234.5678', 'AT'))
  })

  test('the country list uses ISO codes: GR for Greece, 27 member states', ({ assert }) => {
    assert.lengthOf(EU_COUNTRIES, 27)
    assert.include(EU_COUNTRIES, 'GR')
    assert.notInclude(EU_COUNTRIES, 'EL')
    assert.includeMembers(EU_COUNTRIES, ['DE', 'AT', 'FR', 'IT', 'NL', 'PL'])
  })
})
