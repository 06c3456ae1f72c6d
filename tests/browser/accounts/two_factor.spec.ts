import { test } from '@japa/runner'
import { generate } from 'otplib'
import User from '#accounts/models/user'
import { Created, loginThroughForm, passTwoFactor, uniqueUser } from '#tests/support/browser'

test.group('Two-factor authentication in the browser', (group) => {
  const created = new Created()
  group.each.teardown(() => created.cleanup())

  test('a customer turns on 2FA, gets recovery codes, and then needs a code to log in', async ({
    visit,
    assert,
  }) => {
    const user = await uniqueUser(created, 'member')

    const page = await visit('/login')
    await loginThroughForm(page, user.email)
    await page.assertPath('/app')

    await page.goto('/account/2fa')
    const secret = (await page.textContent('#totp-secret'))!.trim()
    assert.match(secret, /^[A-Z2-7]{16,}$/)
    await page.fill('#field-code', await generate({ secret }))
    await page.click('#two-factor-setup-form button[type="submit"]')
    await page.assertElementsCount('#recovery-codes li', 10)
    const codes = (await page.locator('#recovery-codes li').allTextContents()).map((c) => c.trim())
    assert.lengthOf(new Set(codes), 10)

    await user.refresh()
    assert.isTrue(user.twoFactorEnabled)

    // Log out, log in again: password alone is no longer enough
    await Promise.all([
      page.waitForURL('**/login'),
      page.click('form.logout button[type="submit"]'),
    ])
    await loginThroughForm(page, user.email)
    await page.assertPath('/login/2fa')
    await page.assertExists('#two-factor-form #field-code')
    await page.goto('/app')
    await page.assertPath('/login')

    // A wrong code is refused
    await page.goto('/login')
    await loginThroughForm(page, user.email)
    await page.fill('#field-code', '000000')
    await Promise.all([
      page.waitForURL('**/login/2fa'),
      page.click('#two-factor-form button[type="submit"]'),
    ])
    await page.assertVisible('[data-error-for="code"]')

    // The code of the next 30 s window (the current one was spent on enabling) logs in
    await passTwoFactor(page, secret, { ahead: true })
    await page.assertPath('/app')
    await page.assertTextContains('h1', user.fullName)
    assert.isNotNull((await User.findOrFail(user.id)).totpLastStep)
  })
})
