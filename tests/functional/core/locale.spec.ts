import { test } from '@japa/runner'
import env from '#start/env'

/** This test server's own origin, as the API client reaches it. */
const OWN = `http://${env.get('HOST')}:${env.get('PORT')}`

/** The language switch returns to the page the visitor came from, and only to a page of ours. */
test.group('Language switch', () => {
  test('returns to the referring page of this site', async ({ client }) => {
    const response = await client
      .get('/locale/en')
      .header('referer', `${OWN}/login?x=1`)
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/login?x=1')
  })

  test('never leaves the site, whatever the Referer says', async ({ client, assert }) => {
    for (const referer of [
      '//evil.example/x',
      'https://evil.example/x',
      `${OWN}//evil.example/x`,
      `${OWN}/\\evil.example/x`,
      `${OWN}/%2F%2Fevil.example`,
      '/\\/evil.example/x',
    ]) {
      const response = await client.get('/locale/en').header('referer', referer).redirects(0)
      response.assertStatus(302)
      const location = response.header('location') as string
      assert.match(
        location,
        /^\/(?![/\\])/,
        `Referer ${referer}: a path of our own, got ${location}`
      )
      // What a browser makes of it: still our host
      assert.equal(new URL(location, `${OWN}/`).host, new URL(OWN).host, `Referer ${referer}`)
    }
  })
})
