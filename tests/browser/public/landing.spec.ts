import { test } from '@japa/runner'

test.group('Landing page', () => {
  test('is German by default and says the service is for businesses only', async ({ visit }) => {
    const page = await visit('/')
    await page.assertExists('html[lang="de"]')
    await page.assertTextContains('.b2b-notice', 'Nur für Geschäftskunden')
    await page.assertTextContains('.b2b-notice', 'nicht mit Verbrauchern')
    await page.assertTextContains('footer', 'ausschließlich für Unternehmen (B2B)')
  })

  test('a browser asking for a language we do not offer gets German', async ({ browser }) => {
    const context = await browser.newContext({
      baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
      locale: 'fr-FR',
    })
    try {
      const page = await context.newPage()
      await page.goto('/')
      await page.assertExists('html[lang="de"]')
      await page.assertTextContains('.b2b-notice', 'Nur für Geschäftskunden')
    } finally {
      await context.close()
    }
  })

  test('the EN link switches to English and the choice sticks on the next page', async ({ visit, assert }) => {
    const page = await visit('/')
    await Promise.all([page.waitForURL('**/'), page.click('.lang a[lang="en"]')])
    await page.assertPath('/')
    await page.assertExists('html[lang="en"]')
    await page.assertTextContains('.b2b-notice', 'Business customers only')
    await page.assertCookie('locale', 'en')

    // Next page, reached through a link: still English (the cookie, not the URL, carries it)
    await Promise.all([page.waitForURL('**/login'), page.click('.topnav a[href="/login"]')])
    await page.assertExists('html[lang="en"]')
    await page.assertText('h1', 'Log in')
    assert.notInclude(await page.textContent('body'), 'Anmelden')

    // and back to German
    await Promise.all([page.waitForURL('**/login'), page.click('.lang a[lang="de"]')])
    await page.assertText('h1', 'Anmelden')
  })

  test('an unknown URL shows our own 404 page', async ({ visit, assert }) => {
    const page = await visit('/does-not-exist-' + Date.now())
    const response = await page.request.get('/does-not-exist')
    assert.equal(response.status(), 404)
    await page.assertText('h1', '404')
    await page.assertTextContains('main', 'Diese Seite gibt es nicht.')
    await page.assertExists('header.topbar a.brand')
    await page.assertExists('main a[href="/"]')
  })
})
