import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { personalDataDeclarations } from '#privacy/personal_data_registry'
import { ROLES, processingRecord } from '#privacy/services/processing_record'
import { makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'

/** The record of processing activities (Art. 30 GDPR) is generated from the registry, whole. */
test.group('Privacy: record of processing activities', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('every declared table is in the record with a decided role, and nothing else', ({
    assert,
  }) => {
    const record = processingRecord()
    assert.deepEqual(
      record.undecided.map((activity) => activity.key),
      [],
      'a role (processor or controller) for every declared table'
    )
    const declared = personalDataDeclarations.flatMap((declaration) =>
      declaration.tables.map((entry) => `${declaration.module}.${entry.table}`)
    )
    assert.sameMembers(
      [...record.processor, ...record.controller].map((activity) => activity.key),
      declared
    )
    assert.sameMembers(Object.keys(ROLES), declared, 'no role for a table nobody declares')
    const users = record.processor.find((activity) => activity.key === 'accounts.users')!
    assert.include(users.dataCategories, 'email address (login)')
    assert.equal(record.controller.find((a) => a.key === 'billing.invoices')!.role, 'controller')
  })

  test('the privacy officer reads it as a page and as JSON', async ({ client, assert }) => {
    const officer = await makeUser('privacy_officer')
    await enableTwoFactor(officer)
    const page = await client.get('/admin/privacy/record').loginAs(officer)
    page.assertStatus(200)
    assert.include(page.text(), 'id="record-processor"')
    assert.include(page.text(), 'data-key="billing.invoices"')
    assert.notInclude(page.text(), 'id="record-undecided"')
    const json = await client.get('/admin/privacy/record.json').loginAs(officer)
    json.assertStatus(200)
    assert.isAbove(json.body().controller.length, 5)
  })
})
