import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { Created, loginThroughForm, uniqueUser } from '#tests/support/browser'

test.group('Desk phone set-up in the browser', (group) => {
  const created = new Created()
  group.each.teardown(async () => {
    await db
      .from('sip_devices')
      .whereIn('user_id', [...created.userIds])
      .delete()
    await created.cleanup()
  })

  test('the copy buttons put the new password and the server into the clipboard; the guides open', async ({
    browser,
    assert,
  }) => {
    const member = await uniqueUser(created, 'member')
    const context = await browser.newContext({
      baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
      locale: 'de-DE',
    })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'])
    try {
      const page = await context.newPage()
      await loginThroughForm(page, member.email)
      await page.goto('/app/devices')
      await page.fill('#field-label', 'Gigaset N670')
      await Promise.all([
        page.waitForLoadState('load'),
        page.click('#device-form button[type="submit"]'),
      ])
      const password = (await page.textContent('#device-password'))!.trim()
      await page.click('button.copy[data-copy="#device-password"]')
      await page.assertText('button.copy[data-copy="#device-password"]', 'Kopiert')
      assert.equal(
        await page.evaluate(() => (globalThis as any).navigator.clipboard.readText()),
        password
      )
      await page.click('button.copy[data-copy="#setup-server"]')
      assert.equal(
        await page.evaluate(() => (globalThis as any).navigator.clipboard.readText()),
        (await page.textContent('#setup-server'))!.trim()
      )

      await page.assertNotVisible('details[data-make="gigaset"] ol')
      await page.click('details[data-make="gigaset"] summary')
      await page.assertVisible('details[data-make="gigaset"] ol')
      await page.assertTextContains('details[data-make="gigaset"] ol', 'Web-Konfigurator')
    } finally {
      await context.close()
    }
  })
})
