import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'

/** The links of the page's top menu. */
function menuLinks(html: string) {
  const nav = /<nav class="topnav"[^>]*>([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? ''
  return [...nav.matchAll(/href="([^"]+)"/g)].map((match) => match[1])
}

test.group('Menus', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the customer menu stays on the security and 2FA pages', async ({ client, assert }) => {
    const owner = await makeUser('owner', await makeCompany('active'))
    for (const path of ['/app', '/account/security', '/account/2fa']) {
      const response = await client.get(path).loginAs(owner)
      response.assertStatus(200)
      const links = menuLinks(response.text())
      for (const expected of [
        '/app',
        '/app/phone',
        '/app/calls',
        '/app/devices',
        '/app/team',
        '/app/audit',
        '/account/security',
      ]) {
        assert.include(links, expected, `${path} links to ${expected}`)
      }
    }
  })

  test('the admin menu stays on the security and 2FA pages and links to the routes', async ({
    client,
    assert,
  }) => {
    const staff = await makeUser('superadmin')
    await enableTwoFactor(staff)
    for (const path of ['/admin', '/account/security', '/account/2fa']) {
      const response = await client.get(path).loginAs(staff)
      response.assertStatus(200)
      const links = menuLinks(response.text())
      for (const expected of [
        '/admin',
        '/admin/companies',
        '/admin/carriers',
        '/admin/routes',
        '/admin/audit',
        '/account/security',
      ]) {
        assert.include(links, expected, `${path} links to ${expected}`)
      }
      assert.notInclude(links, '/app/phone')
    }
    const routes = await client.get('/admin').loginAs(staff)
    assert.include(routes.text(), '>Routen</a>')
  })

  test('the logo and the landing page lead a signed-in person to their own area', async ({
    client,
    assert,
  }) => {
    const brand = (html: string) => /<a class="brand" href="([^"]+)"/.exec(html)?.[1]
    const visitor = await client.get('/')
    assert.equal(brand(visitor.text()), '/')
    assert.include(visitor.text(), 'href="/signup"')
    assert.notInclude(visitor.text(), 'id="open-app"')

    const owner = await makeUser('owner', await makeCompany('active'))
    for (const path of ['/', '/app/calls', '/privacy']) {
      assert.equal(brand((await client.get(path).loginAs(owner)).text()), '/app', path)
    }
    const landing = (await client.get('/').loginAs(owner)).text()
    assert.match(landing, /<a class="button" id="open-app" href="\/app">Zu Ihrer Übersicht</)
    assert.notInclude(landing, 'href="/signup"')

    const staff = await makeUser('superadmin')
    await enableTwoFactor(staff)
    const admin = (await client.get('/').loginAs(staff)).text()
    assert.equal(brand(admin), '/admin')
    assert.include(admin, 'id="open-app" href="/admin"')
  })

  test('staff see the menus of what their role allows, none empty', async ({ client, assert }) => {
    const menus = (html: string) => {
      const nav = /<nav class="topnav"[^>]*>([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? ''
      return [
        ...nav.matchAll(/<details class="nav-group" id="([^"]+)">([\s\S]*?)<\/details>/g),
      ].map((match) => ({ id: match[1], links: [...match[2].matchAll(/href="([^"]+)"/g)].length }))
    }
    const expected = {
      superadmin: ['nav-telephony', 'nav-fraud', 'nav-billing', 'nav-privacy', 'nav-access'],
      support: ['nav-telephony', 'nav-access'],
      fraud_analyst: ['nav-fraud'],
      privacy_officer: ['nav-privacy', 'nav-access'],
    } as const
    for (const [role, ids] of Object.entries(expected)) {
      const staff = await makeUser(role as keyof typeof expected)
      await enableTwoFactor(staff)
      const found = menus((await client.get('/admin').loginAs(staff)).text())
      assert.deepEqual(
        found.map((menu) => menu.id),
        [...ids],
        role
      )
      for (const menu of found) assert.isAbove(menu.links, 0, `${role}: ${menu.id} has links`)
    }
  })
})
