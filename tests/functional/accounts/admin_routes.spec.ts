import { test } from '@japa/runner'
import router from '@adonisjs/core/services/router'
import testUtils from '@adonisjs/core/services/test_utils'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'

interface AdminRoute {
  method: string
  url: string
}

/** Params whose route matcher refuses "1" (a 404 before any access check would hide the check). */
const PLACEHOLDERS: Record<string, string> = { messageId: 'FC-DD-1' }

/** Every route of the admin area, read from the router, with each param filled with 1 (or a value its matcher takes). */
function adminRoutes(): AdminRoute[] {
  const routes: AdminRoute[] = []
  for (const domainRoutes of Object.values(router.toJSON())) {
    for (const route of domainRoutes) {
      if (route.pattern !== '/admin' && !route.pattern.startsWith('/admin/')) continue
      const url = route.pattern
        .replace(/:([^/]+)/g, (_, name: string) => PLACEHOLDERS[name] ?? '1')
        .replace(/\*/g, '1')
      for (const method of route.methods) {
        if (method === 'HEAD') continue
        routes.push({ method, url })
      }
    }
  }
  return routes
}

function request(client: any, { method, url }: AdminRoute) {
  const pending = client.request(url, method).redirects(0)
  return method === 'GET' ? pending : pending.withCsrfToken()
}

test.group('Admin routes are closed to customers and visitors', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the router lists the admin routes', ({ assert }) => {
    const routes = adminRoutes()
    assert.isAbove(routes.length, 0)
    const keys = routes.map((route) => `${route.method} ${route.url}`)
    assert.includeMembers(keys, [
      'GET /admin',
      'GET /admin/companies/1',
      'PUT /admin/companies/1/status',
      'PUT /admin/roles',
    ])
  })

  test('a logged-in customer owner (even with 2FA) gets 403 on every admin route', async ({
    client,
    assert,
  }) => {
    const routes = adminRoutes()
    assert.isNotEmpty(routes)
    const owner = await makeUser('owner', await makeCompany('active'))
    await enableTwoFactor(owner)

    const wrong: string[] = []
    for (const route of routes) {
      const response = await request(client, route).loginAs(owner)
      if (response.status() !== 403)
        wrong.push(`${route.method} ${route.url} -> ${response.status()}`)
    }
    assert.deepEqual(wrong, [], 'admin routes that did not answer 403 to a customer')
  })

  test('an anonymous visitor is sent to the login on every admin route', async ({
    client,
    assert,
  }) => {
    const routes = adminRoutes()
    assert.isNotEmpty(routes)

    const wrong: string[] = []
    for (const route of routes) {
      const response = await request(client, route)
      const location = response.header('location')
      if (response.status() !== 302 || location !== '/login') {
        wrong.push(`${route.method} ${route.url} -> ${response.status()} ${location ?? ''}`)
      }
    }
    assert.deepEqual(wrong, [], 'admin routes that did not redirect an anonymous visitor to /login')
  })
})
