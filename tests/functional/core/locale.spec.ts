import { test } from '@japa/runner'

/** The language switch returns to the page the visitor came from, and only to a page of ours. */
test.group('Language switch', () => {
  test('returns to the referring page of this site', async ({ client }) => {
    const response = await client.get('/locale/en').header('referer', 'http://localhost:3451/login?x=1').redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/login?x=1')
  })

  test('never leaves the site, whatever the Referer says', async ({ client, assert }) => {
    for (const referer of [
    '//evil.example/x',
    'https://evil.example/x',
    'http://localhost:3451//evil.example/x',
    'http://localhost:3451/\\evil.example/x',
    'http://localhost:3451/%2F%2Fevil.example',
    '/\\/evil.example/x',
    ]) {
      const response = await client.get('/locale/en').header('referer', referer).redirects(0)
      response.assertStatus(302)
      const location = response.header('location') as string
      assert.match(location, /^\/(?![/\\])/, `Referer ${referer}: a path of our own, got ${location}`)
      // What a browser makes of it: still our host
      assert.equal(new URL(location, 'http://localhost:3451/').host, 'localhost:3451', `Referer ${referer}`)
    }
  })
})
