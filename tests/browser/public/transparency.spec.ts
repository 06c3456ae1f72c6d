import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import CarrierState from '#calls/models/carrier_state'
import SubProcessorChange from '#calls/models/sub_processor_change'
import InformationRequest from '#privacy/models/information_request'
import { fakeCarriers } from '#tests/support/carriers'
import { uniqueTag } from '#tests/support/browser'

/**
 * The browser's requests reach the server on their own connections, so no global transaction:
 * the carrier states are written directly and removed again after each test.
 */
const FAKE_CARRIERS = ['local', 'eu_alpha', 'eu_beta', 'us_gamma']

async function cleanup() {
  await db.from('carrier_states').whereIn('carrier_name', FAKE_CARRIERS).delete()
  await db.from('sub_processor_changes').whereIn('carrier_name', FAKE_CARRIERS).delete()
}

test.group('Public transparency pages in the browser', (group) => {
  let restore: () => void = () => {}
  group.each.setup(async () => {
    await cleanup()
    restore = await fakeCarriers()
    const effectiveAt = DateTime.utc().plus({ days: 30 }).startOf('day')
    await CarrierState.createMany([
      { carrierName: 'eu_alpha', enabled: true, lifecycle: 'active', activatedAt: DateTime.utc() },
      { carrierName: 'us_gamma', enabled: true, lifecycle: 'announced', announcedAt: DateTime.utc(), effectiveAt },
      { carrierName: 'eu_beta', enabled: true, lifecycle: 'withdrawn', withdrawnAt: DateTime.utc() },
      { carrierName: 'local', enabled: true, lifecycle: 'active', activatedAt: DateTime.utc() },
    ])
    await SubProcessorChange.create({ carrierName: 'us_gamma', change: 'announced', effectiveAt })
  })
  group.each.teardown(async () => {
    restore()
    await cleanup()
  })

  test('German by default, English after switching: the list shows the active and the announced carrier only', async ({ visit, assert }) => {
    const page = await visit('/transparency/sub-processors')
    await page.assertExists('html[lang="de"]')
    await page.assertText('h1', 'Unterauftragsverarbeiter')
    await page.assertTextContains('tr[data-key="eu_alpha"]', 'EU Alpha GmbH')
    await page.assertTextContains('tr[data-key="eu_alpha"] .status-cell', 'aktiv')
    const date = DateTime.utc().plus({ days: 30 }).toISODate()!
    await page.assertTextContains('tr[data-key="us_gamma"] .status-cell', `angekündigt, aktiv ab ${date}`)
    await page.assertTextContains('tr[data-key="us_gamma"]', 'Standardvertragsklauseln, Modul 3')
    await page.assertNotExists('tr[data-key="eu_beta"]')
    await page.assertNotExists('tr[data-key="local"]')
    assert.equal(await page.locator('#sub-processors tbody tr[data-key]').count(), 2)

    await Promise.all([page.waitForURL('**/transparency/sub-processors'), page.click('.lang a[lang="en"]')])
    await page.assertExists('html[lang="en"]')
    await page.assertText('h1', 'Sub-processors')
    await page.assertTextContains('tr[data-key="us_gamma"] .status-cell', `announced, active from ${date}`)
    await page.assertTextContains('tr[data-key="us_gamma"]', 'Standard Contractual Clauses, module 3')

    for (const [link, heading] of [
      ['/transparency/toms', 'Technical and organisational measures'],
      ['/transparency/transfers', 'Transfers outside the EU'],
      ['/transparency/sccs', 'Standard Contractual Clauses'],
      ['/transparency/history', 'Change history'],
      ['/privacy', 'Privacy statement'],
    ]) {
      await Promise.all([page.waitForURL(`**${link}`), page.click(`#transparency-nav a[href="${link}"]`)])
      await page.assertText('h1', heading)
    }
    await page.assertTextContains('main', 'Art. 77 GDPR')

    await Promise.all([page.waitForURL('**/privacy'), page.click('.lang a[lang="de"]')])
    await page.assertText('h1', 'Datenschutzerklärung')
  })

  test('the SCC page offers the annex download for the US carrier only', async ({ visit, assert }) => {
    const page = await visit('/transparency/sccs')
    await page.assertExists('#sccs li[data-key="us_gamma"] a[download]')
    await page.assertNotExists('#sccs li[data-key="eu_alpha"]')
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#sccs li[data-key="us_gamma"] a[download]')])
    assert.match(download.suggestedFilename(), /^scc-annexes-us_gamma-de\.txt$/)
    const stream = await download.createReadStream()
    let text = ''
    for await (const chunk of stream) text += chunk
    assert.include(text, 'Datenimporteur: US Gamma Inc.')
    assert.include(text, 'ANHANG II')
  })

  test('the request form shows errors beside the fields, then accepts the request', async ({ visit, assert }) => {
    const email = `request-${uniqueTag()}@example.test`
    const page = await visit('/transparency/request')
    await page.fill('#field-requester_email', 'nope')
    await Promise.all([page.waitForURL('**/transparency/request'), page.click('#information-request-form button[type="submit"]')])
    await page.assertExists('[data-error-for="requester_name"]')
    await page.assertExists('[data-error-for="requester_email"]')
    await page.assertExists('[data-error-for="message"]')

    await page.fill('#field-requester_name', 'Browser Person')
    await page.fill('#field-requester_email', email)
    await page.selectOption('#field-topic', 'transfers')
    await page.fill('#field-message', 'Which countries outside the EU are involved?')
    await Promise.all([page.waitForURL('**/transparency/request'), page.click('#information-request-form button[type="submit"]')])
    await page.assertTextContains('.flash.notice', 'Danke, Ihre Anfrage ist eingegangen.')
    await page.assertNotExists('[data-error-for]')
    const stored = await InformationRequest.findByOrFail('requester_email', email)
    assert.equal(stored.topic, 'transfers')
    await stored.delete()
  })
})
