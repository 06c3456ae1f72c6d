import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import {
  Created,
  loginThroughForm,
  passTwoFactor,
  staffWithTwoFactor,
  uniqueCompany,
} from '#tests/support/browser'
import { fakeCarriers } from '#tests/support/carriers'

/** A number block of this run only (browser tests run outside a transaction). */
function uniquePrefix() {
  return `+49308${String(Math.floor(Math.random() * 900000) + 100000)}`
}

test.group('Numbers admin in the browser', (group) => {
  const created = new Created()
  let prefix = ''
  group.each.setup(async () => {
    prefix = uniquePrefix()
    return fakeCarriers()
  })
  group.each.teardown(async () => {
    await db.from('phone_numbers').where('number', 'like', `${prefix}%`).delete()
    await created.cleanup()
  })

  test('staff import a block, see a format error next to the field, assign the block and release a number', async ({
    visit,
  }) => {
    const company = await uniqueCompany(created)
    const { user, secret } = await staffWithTwoFactor(created)
    const page = await visit('/login')
    await loginThroughForm(page, user.email)
    await passTwoFactor(page, secret)

    await page.goto('/admin/numbers')
    await page.click('#import-link')
    await page.assertPath('/admin/numbers/import')

    // A national number is refused next to the field, the input stays
    await page.selectOption('#field-carrier', 'eu_alpha')
    await page.fill('#field-numbers', '030 1234567')
    await Promise.all([
      page.waitForURL('**/admin/numbers/import'),
      page.click('#import-form button[type="submit"]'),
    ])
    await page.assertTextContains('[data-error-for="numbers"]', 'E.164')
    await page.assertInputValue('#field-numbers', '030 1234567')

    await page.fill('#field-numbers', `${prefix}0`)
    await page.fill('#field-count', '5')
    await Promise.all([
      page.waitForURL('**/admin/numbers'),
      page.click('#import-form button[type="submit"]'),
    ])
    await page.assertTextContains('.flash.notice', '5 Rufnummern importiert.')

    await page.click('#assign-link')
    await page.selectOption('#field-company_id', String(company.id))
    await page.fill('#field-numbers', `${prefix}0-${prefix}2`)
    await Promise.all([
      page.waitForURL('**/admin/numbers'),
      page.click('#assign-form button[type="submit"]'),
    ])
    await page.assertTextContains('.flash.notice', '3 Rufnummern zugewiesen.')

    await page.goto(`/admin/numbers?company_id=${company.id}`)
    await page.assertElementsCount('#numbers tbody tr', 3)
    await page.assertTextContains(`tr[data-number="${prefix}1"] .company`, company.legalName)
    await page.screenshot({ path: 'tmp/screens/admin_numbers.png', fullPage: true })

    await Promise.all([
      page.waitForURL('**/admin/numbers'),
      page.click(`tr[data-number="${prefix}1"] .release-form button`),
    ])
    await page.assertTextContains('.flash.notice', 'Freigegeben')
    await page.goto(`/admin/numbers?free=1&carrier=eu_alpha`)
    await page.assertTextContains(`tr[data-number="${prefix}1"] .company`, 'frei')
  })
})
