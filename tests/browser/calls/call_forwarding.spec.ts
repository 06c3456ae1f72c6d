import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import CallForwarding from '#calls/models/call_forwarding'
import CallForwardingService from '#calls/internal/call_forwarding_service'
import { forgetPhoneUsers } from '#tests/support/calls'
import { Created, loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'

/**
 * Call forwarding in Chromium: the settings form works without JavaScript (the select's
 * "external" takes the number field), and the docked phone says when forwarding is on.
 */
test.group('Call forwarding in the browser', (group) => {
  const created = new Created()
  group.each.teardown(async () => {
    await db
      .from('call_forwardings')
      .whereIn('user_id', [...created.userIds])
      .delete()
    await forgetPhoneUsers([...created.userIds])
    await created.cleanup()
  })

  test('without JavaScript: a refused number is shown next to its field with the input kept; a valid one is saved', async ({
    browser,
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    const context = await browser.newContext({
      baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
      locale: 'de-DE',
      javaScriptEnabled: false,
    })
    try {
      const page = await context.newPage()
      await loginThroughForm(page, user.email)
      await page.goto('/app/phone/settings')
      await page.selectOption('#field-always_target', 'external')
      await page.fill('#field-always_number', '112')
      await Promise.all([
        page.waitForURL('**/app/phone/settings'),
        page.click('#forwarding-form button[type="submit"]'),
      ])
      assert.include(
        await page.locator('[data-error-for="always_number"]').innerText(),
        'Notrufnummern (110, 112)'
      )
      assert.equal(await page.locator('#field-always_number').inputValue(), '112')
      assert.equal(await page.locator('#field-always_target').inputValue(), 'external')
      assert.isNull(await CallForwarding.findBy('user_id', user.id))

      await page.fill('#field-always_number', '030 1234567')
      await Promise.all([
        page.waitForURL('**/app/phone/settings'),
        page.click('#forwarding-form button[type="submit"]'),
      ])
      assert.include(await page.content(), 'Rufumleitung gespeichert.')
      assert.equal(await page.locator('#field-always_number').inputValue(), '+49301234567')
      const rule = await CallForwarding.findByOrFail('user_id', user.id)
      assert.deepEqual([rule.condition, rule.targetNumber], ['always', '+49301234567'])
    } finally {
      await context.close()
    }
  }).timeout(60_000)

  test('the docked phone says “forwarding on” and links to the settings; turned off there, the note goes', async ({
    browser,
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    const colleague = await uniqueUser(created, 'member', company)
    await new CallForwardingService().update(
      user,
      company,
      { busy: { target: { kind: 'colleague', userId: colleague.id } } },
      { actor: user, ip: null }
    )
    const context = await browser.newContext({
      baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
      locale: 'de-DE',
      permissions: ['microphone'],
    })
    try {
      const page = await context.newPage()
      await loginThroughForm(page, user.email)
      await page.goto('/app/phone/settings')
      const note = page.locator('#phone-forwarding-on')
      await note.waitFor({ state: 'visible', timeout: 15_000 })
      assert.include(await note.innerText(), 'Rufumleitung ist aktiv')
      assert.match(
        (await note.locator('a').getAttribute('href')) ?? '',
        /\/app\/phone\/settings#forwarding$/
      )

      await page.selectOption('#field-busy_target', 'off')
      await page.click('#forwarding-form button[type="submit"]')
      await note.waitFor({ state: 'hidden', timeout: 15_000 })
      assert.isNull(await CallForwarding.findBy('user_id', user.id))
    } finally {
      await context.close()
    }
  }).timeout(60_000)
})
