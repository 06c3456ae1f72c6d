import { test } from '@japa/runner'
import { inState, openPhone, webPhoneGroup } from '#tests/browser/phone/phone_pages'
import { launchPhoneBrowser } from '#tests/support/chromium'
import { uniqueCompany, uniqueUser } from '#tests/support/browser'
import { loopbackCarriers } from '#tests/support/calls'

/**
 * On a phone's screen (390 px) the docked web phone stands above the page; unfolded it filled the
 * first screen and more, so every page began below it. It folds to its title and status while no
 * call runs, one button opens it, and a call keeps it open (hang-up and the rest reachable).
 */
test.group('Web phone on a small screen', (group) => {
  const { created, cleanups, userIds } = webPhoneGroup(group)

  test('folded to its status line, the page first; opened by its button; open during a call', async ({
    assert,
  }) => {
    const company = await uniqueCompany(created)
    const user = await uniqueUser(created, 'member', company)
    userIds.push(user.id)
    cleanups.push(await loopbackCarriers({}))
    const browser = await launchPhoneBrowser()
    cleanups.push(() => browser.close())
    const page = await openPhone(browser, user.email)

    await page.setViewportSize({ width: 390, height: 844 })
    assert.isTrue(await page.isVisible('#phone-status'))
    assert.equal(await page.textContent('#phone-status'), 'Bereit')
    assert.isFalse(await page.isVisible('#phone-dial-form'), 'the dial form is folded away')
    assert.isFalse(await page.isVisible('#phone-colleagues'))
    assert.equal(await page.getAttribute('#phone-fold', 'aria-expanded'), 'false')
    const heading = await page.locator('#page-main h1').boundingBox()
    assert.isBelow(heading!.y + heading!.height, 844, 'the page’s heading is on the first screen')

    await page.click('#phone-fold')
    assert.equal(await page.getAttribute('#phone-fold', 'aria-expanded'), 'true')
    assert.equal((await page.textContent('#phone-fold'))?.trim(), 'Einklappen')
    assert.isTrue(await page.isVisible('#phone-dial-form'))
    assert.equal(
      await page.evaluate(() => (globalThis as any).document.activeElement?.id),
      'phone-number'
    )

    // Folded again and calling from the keyboard is not possible; opened, a call keeps it open
    await page.click('#phone-fold')
    assert.isFalse(await page.isVisible('#phone-dial-form'))
    await page.click('#phone-fold')
    await page.fill('#phone-number', '*43')
    await page.click('#phone-call')
    await inState(page, 'in-call')
    await page.evaluate(() => {
      ;(globalThis as any).document.querySelector('#web-phone').dataset.folded = 'true'
    })
    assert.isTrue(await page.isVisible('#phone-hangup'), 'a call shows its controls, folded or not')
    assert.isFalse(await page.isVisible('#phone-fold'), 'and no fold button')
    await page.click('#phone-hangup')
    await page.waitForSelector('#web-phone:not([data-phone-state="in-call"])', { timeout: 10_000 })
    assert.isFalse(await page.isVisible('#phone-dial-form'), 'folded again once the call ended')

    // A laptop's window: the phone is docked beside the page, always open, no fold button
    await page.setViewportSize({ width: 1280, height: 800 })
    assert.isFalse(await page.isVisible('#phone-fold'))
    assert.isTrue(await page.isVisible('#phone-dial-form'))
  }).timeout(90_000)
})
