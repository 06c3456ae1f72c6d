import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'

/** The visible text of the phone page's "emergency calls only" notice. */
function emergencyNotice(html: string) {
  return /id="phone-emergency-only"[^>]*>([^<]*)</.exec(html)?.[1].trim() ?? ''
}

test.group('Company status in words', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a company under review is told so on the phone page, not that it is suspended (de and en)', async ({
    client,
    assert,
  }) => {
    const member = await makeUser('member', await makeCompany('pending'))
    const german = await client.get('/app/phone').loginAs(member)
    german.assertStatus(200)
    assert.include(emergencyNotice(german.text()), 'in Prüfung')
    assert.notInclude(emergencyNotice(german.text()), 'gesperrt')
    const english = await client.get('/app/phone').header('Accept-Language', 'en').loginAs(member)
    assert.include(emergencyNotice(english.text()), 'under review')
    assert.notInclude(emergencyNotice(english.text()), 'suspended')
  })

  test('a suspended company gets its own words on the phone page and the dashboard; a terminated one is sent to the login', async ({
    client,
    assert,
  }) => {
    const suspended = await makeUser('member', await makeCompany('suspended'))
    const phone = await client.get('/app/phone').loginAs(suspended)
    assert.include(emergencyNotice(phone.text()), 'gesperrt')
    const dashboard = await client.get('/app').loginAs(suspended)
    assert.include(dashboard.text(), 'Ihre Firma ist gesperrt.')

    // A terminated company's users no longer reach the customer area at all (web sessions end).
    const terminated = await makeUser('member', await makeCompany('terminated'))
    const ended = await client.get('/app').loginAs(terminated).redirects(0)
    ended.assertStatus(302)
    ended.assertHeader('location', '/login')
  })

  test('the admin company list and page show "Demo GmbH" once, and add a legal form the name lacks', async ({
    client,
    assert,
  }) => {
    const staff = await makeUser('superadmin')
    await enableTwoFactor(staff)
    const demo = await makeCompany('active', { legalName: 'Demo GmbH', legalForm: 'GmbH' })
    const plain = await makeCompany('active', { legalName: 'Beispiel Handel', legalForm: 'AG' })
    const dotted = await makeCompany('active', {
      legalName: 'Muster UG (haftungsbeschränkt)',
      legalForm: 'UG (haftungsbeschränkt)',
    })

    const list = (await client.get('/admin/companies').loginAs(staff)).text()
    assert.include(list, '>Demo GmbH</a>')
    assert.notInclude(list, 'Demo GmbH GmbH')
    assert.include(list, '>Beispiel Handel AG</a>')
    assert.notInclude(list, 'UG (haftungsbeschränkt) UG')
    const page = (await client.get(`/admin/companies/${demo.id}`).loginAs(staff)).text()
    assert.include(page, '<h1>Demo GmbH</h1>')
    assert.notInclude(page, 'Demo GmbH GmbH')
    assert.include(
      (await client.get(`/admin/companies/${plain.id}`).loginAs(staff)).text(),
      '<h1>Beispiel Handel AG</h1>'
    )
    assert.include(
      (await client.get(`/admin/companies/${dotted.id}`).loginAs(staff)).text(),
      '<h1>Muster UG (haftungsbeschränkt)</h1>'
    )
  })
})
