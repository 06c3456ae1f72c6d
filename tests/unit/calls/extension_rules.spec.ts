import { test } from '@japa/runner'
import { extensionProblem, isExtensionShaped } from '#calls/internal/extension_rules'

test.group('Extension rules', () => {
  test('2-4 digits that begin like no public number are extensions', ({ assert }) => {
    for (const extension of ['10', '23', '99', '100', '111', '113', '119', '200', '1000', '9999'])
      assert.isNull(extensionProblem(extension), extension)
  })

  test('{0} is refused as {1}')
    .with([
      ['110', 'extension_emergency'],
      ['112', 'extension_emergency'],
      ['1100', 'extension_emergency'],
      ['1123', 'extension_emergency'],
      ['115', 'extension_service'],
      ['1150', 'extension_service'],
      ['116', 'extension_service'],
      ['1161', 'extension_service'],
      ['118', 'extension_service'],
      ['1183', 'extension_service'],
      ['01', 'extension_leading_zero'],
      ['0815', 'extension_leading_zero'],
      ['*43', 'extension_format'],
      ['#31#', 'extension_format'],
      ['5', 'extension_format'],
      ['12345', 'extension_format'],
      ['2 3', 'extension_format'],
      ['', 'extension_format'],
      ['٢٣', 'extension_format'],
    ])
    .run(({ assert }, [extension, problem]) => {
      assert.equal(extensionProblem(extension), problem)
    })

  test('only 2-4 digit strings are dialled as extensions', ({ assert }) => {
    assert.isTrue(isExtensionShaped('23'))
    assert.isTrue(isExtensionShaped('1234'))
    assert.isFalse(isExtensionShaped('*43'))
    assert.isFalse(isExtensionShaped('+4930123456'))
    assert.isFalse(isExtensionShaped('030123456'))
  })
})
