import { test } from '@japa/runner'
import { Created, loginThroughForm, uniqueCompany, uniqueUser } from '#tests/support/browser'

test.group('Layout', (group) => {
  const created = new Created()
  group.each.teardown(() => created.cleanup())

  test('the header shows our logo and the browser tab our favicon', async ({ visit, assert }) => {
    const page = await visit('/')
    await page.assertExists('header .brand img.logo[src="/logo.svg"]')
    // Loaded and drawn, not a broken image
    const drawn = await page
      .locator('header .brand img.logo')
      .evaluate((image: any) => image.complete && image.naturalWidth > 0)
    assert.isTrue(drawn)
    assert.equal(await page.getAttribute('link[rel="icon"]', 'href'), '/favicon.svg')
    const favicon = await page.request.get('/favicon.svg')
    assert.equal(favicon.status(), 200)
    assert.include(favicon.headers()['content-type'], 'image/svg+xml')
    assert.include(await favicon.text(), '<svg')
  })

  test('on a phone the menu folds behind a button that opens it; on a laptop it is open', async ({
    visit,
    assert,
  }) => {
    const page = await visit('/')
    await page.setViewportSize({ width: 390, height: 800 })
    await page.assertVisible('#menu-toggle')
    await page.assertNotVisible('.topnav a[href="/login"]')
    await page.assertNotVisible('.lang a[lang="en"]')
    assert.equal(await page.getAttribute('#menu-toggle', 'aria-expanded'), 'false')
    await page.click('#menu-toggle')
    assert.equal(await page.getAttribute('#menu-toggle', 'aria-expanded'), 'true')
    await page.assertVisible('.topnav a[href="/login"]')
    await page.assertVisible('.lang a[lang="en"]')
    await Promise.all([page.waitForURL('**/login'), page.click('.topnav a[href="/login"]')])
    // A new page starts folded again
    await page.assertNotVisible('.topnav a[href="/signup"]')

    await page.setViewportSize({ width: 1280, height: 800 })
    await page.assertNotVisible('#menu-toggle')
    await page.assertVisible('.topnav a[href="/signup"]')
  })

  test('without JavaScript the phone menu stays open', async ({ browser }) => {
    const context = await browser.newContext({
      baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
      locale: 'de-DE',
      javaScriptEnabled: false,
      viewport: { width: 390, height: 800 },
    })
    try {
      const page = await context.newPage()
      await page.goto('/')
      await page.assertVisible('.topnav a[href="/login"]')
      await page.assertVisible('.lang a[lang="en"]')
    } finally {
      await context.close()
    }
  })

  test('the customer menu keeps less frequent pages in two menus: one open at a time, closed by Escape or a click elsewhere', async ({
    visit,
    assert,
  }) => {
    const owner = await uniqueUser(created, 'owner', await uniqueCompany(created, 'active'))
    const page = await visit('/login')
    await page.setViewportSize({ width: 1280, height: 800 })
    await loginThroughForm(page, owner.email)
    await page.assertVisible('.topnav a[href="/app/calls"]')
    await page.assertNotVisible('.topnav a[href="/app/invoices"]')
    await page.assertNotVisible('.topnav a[href="/app/dpa"]')

    await page.click('#nav-billing summary')
    await page.assertVisible('.topnav a[href="/app/invoices"]')
    await page.click('#nav-privacy summary')
    await page.assertVisible('.topnav a[href="/app/dpa"]')
    await page.assertNotVisible('.topnav a[href="/app/invoices"]')
    await page.keyboard.press('Escape')
    await page.assertNotVisible('.topnav a[href="/app/dpa"]')
    await page.click('#nav-billing summary')
    await page.click('#page-main h1')
    await page.assertNotVisible('.topnav a[href="/app/invoices"]')

    // A page of a menu loads (in place, beside the phone) and the menus are closed again
    await page.click('#nav-billing summary')
    await page.click('.topnav a[href="/app/spend"]')
    await page.waitForURL('**/app/spend')
    await page.assertExists('#spend-own')
    assert.isFalse(await page.locator('#nav-billing').evaluate((details: any) => details.open))
  })
})
