import { test } from '@japa/runner'
import { Created, loginThroughForm, uniqueUser } from '#tests/support/browser'
import { BrowserSession } from '#tests/support/browser_session'

const CHROME_LINUX =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

test.group('Signed-in devices in the browser', (group) => {
  const created = new Created()
  group.each.teardown(() => created.cleanup())

  test('a customer sees this browser and another device, and signs the other one out', async ({
    visit,
    assert,
  }) => {
    const user = await uniqueUser(created, 'member')
    const other = await new BrowserSession(CHROME_LINUX).logIn(user)

    const page = await visit('/login')
    await loginThroughForm(page, user.email)
    await page.assertPath('/app')
    await page.goto('/account/security')
    await page.assertElementsCount('#web-sessions tbody tr', 2)
    const current = page.locator('#web-sessions tr[data-current]')
    assert.include(
      (await current.textContent())!.replace(/\s+/g, ' '),
      'Chrome auf Linux (dieses Gerät)'
    )
    const otherRow = page.locator('#web-sessions tbody tr:not([data-current])')
    assert.include(await otherRow.textContent(), 'Chrome auf Linux')

    page.once('dialog', (dialog) => dialog.accept())
    await Promise.all([
      page.waitForURL('**/account/security'),
      otherRow.locator('button[type="submit"]').click(),
    ])
    await page.assertElementsCount('#web-sessions tbody tr', 1)
    await page.assertTextContains('body', 'Die Sitzung wurde beendet.')
    const after = await other.page('/app')
    assert.equal(`${after.status} ${after.location}`, '302 /login')
  })
})
