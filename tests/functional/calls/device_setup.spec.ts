import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { configuredRealm } from '#calls/signalling/registrar_settings'

/** The page's HTML without the whitespace between tags. */
function compact(html: string) {
  return html.replace(/>\s+</g, '><')
}

test.group('Desk phone set-up', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the devices page names server, domain and the port of every transport as the SIP stack listens, with guides for common phones', async ({
    client,
    assert,
  }) => {
    const member = await makeUser('member', await makeCompany())
    const layer = await app.container.make('sip.transport')
    const html = compact((await client.get('/app/devices').loginAs(member)).text())
    assert.include(html, `<code id="setup-server">${configuredRealm()}</code>`)
    assert.include(html, `<code id="setup-domain">${configuredRealm()}</code>`)
    for (const protocol of ['udp', 'tcp', 'tls'] as const) {
      const port = layer.localAddress(protocol)!.port
      assert.isAbove(port, 0)
      assert.include(
        html,
        `<dt>Port ${protocol.toUpperCase()}</dt><dd data-transport="${protocol}"><code>${port}</code>`
      )
    }
    for (const make of ['Yealink', 'Snom', 'Grandstream', 'Gigaset', 'Andere SIP-Telefone'])
      assert.include(html, `<summary>${make}`)
    assert.include(html, 'Registername und Benutzername = Benutzername des Geräts')
    assert.include(html, 'data-copy="#setup-server"')

    const english = compact(
      (await client.get('/app/devices').header('Accept-Language', 'en').loginAs(member)).text()
    )
    assert.include(english, '<summary>Other SIP phones and softphones</summary>')
    assert.include(english, 'SIP Server 1: Server Host = ' + configuredRealm())
  })

  test('a new device shows its user name and password with copy buttons', async ({
    client,
    assert,
  }) => {
    const member = await makeUser('member', await makeCompany())
    const response = await client
      .post('/app/devices')
      .form({ label: 'Yealink T54W' })
      .withCsrfToken()
      .loginAs(member)
    response.assertStatus(200)
    const html = response.text()
    assert.match(html, /<code id="device-password">[A-Za-z0-9]{22}<\/code>/)
    assert.include(html, 'data-copy="#device-username"')
    assert.include(html, 'data-copy="#device-password"')
  })
})
