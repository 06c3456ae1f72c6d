import { test } from '@japa/runner'

test.group('Layout', () => {
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
})
