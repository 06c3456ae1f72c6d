import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import InformationRequest from '#privacy/models/information_request'
import { makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { fakeCarriers, testCarriersConfig } from '#tests/support/carriers'
import { mailProviderSubProcessor } from '#calls/carriers/mail_provider'

test.group('Transparency pages and information requests', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => fakeCarriers())

  test('the public pages need no login and speak German and English', async ({
    client,
    assert,
  }) => {
    for (const url of [
      '/privacy',
      '/transparency',
      '/transparency/toms',
      '/transparency/sub-processors',
      '/transparency/request',
    ]) {
      const response = await client.get(url).redirects(0)
      response.assertStatus(200)
    }
    const de = await client.get('/transparency/toms')
    assert.include(de.text(), 'Rollenbasierte Berechtigungen (RBAC)')
    assert.include(de.text(), 'nur anfügbares Audit-Log')
    assert.notInclude(de.text(), 'transparency.toms', 'every TOM item has a translation')
    const en = await client
      .get('/transparency/toms')
      .cookie('locale', 'en')
      .header('accept-language', 'en')
    assert.include(en.text(), 'Role-based access control (RBAC)')
    const privacy = await client.get('/privacy')
    assert.include(privacy.text(), 'nach 6 Monaten')
    assert.include(privacy.text(), 'Art. 77 DSGVO')
  })

  test('with MAIL_MAILER=smtp the mail provider is listed on the public sub-processor pages', async ({
    client,
    assert,
  }) => {
    const settings = {
      name: 'Mailversand Beispiel GmbH',
      country: 'DE',
      address: 'Musterweg 5, 10115 Berlin',
      dpaUrl: 'https://mail.example/avv',
      confirmed: true,
    }
    const listed = async () => {
      const page = await client.get('/transparency/sub-processors')
      const json = await client.get('/transparency/sub-processors.json')
      return page.text() + JSON.stringify(json.body())
    }
    // The file mailer (development) sends nothing to anybody: no mail provider listed
    assert.isNull(mailProviderSubProcessor({ mailer: 'file', ...settings }))
    assert.notInclude(await listed(), 'Mailversand Beispiel GmbH')

    const config = testCarriersConfig()
    config.nonCarrierSubProcessors = [mailProviderSubProcessor({ mailer: 'smtp', ...settings })!]
    await fakeCarriers(config)
    const text = await listed()
    assert.include(text, 'Mailversand Beispiel GmbH')
    assert.include(text, 'E-Mail-Versand (SMTP)')
    assert.include(text, 'Musterweg 5')
  })

  test('an incomplete request shows the errors beside the fields and stores nothing', async ({
    client,
    assert,
  }) => {
    const response = await client
      .post('/transparency/request')
      .form({
        requester_name: '',
        requester_email: 'not-an-email',
        topic: 'toms',
        message: 'short',
      })
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    const errors = response.flashMessages().inputErrorsBag as Record<string, string[]>
    assert.properties(errors, ['requester_name', 'requester_email', 'message'])
    assert.notProperty(errors, 'topic')
    assert.isNull(await InformationRequest.query().where('requester_email', 'not-an-email').first())

    const form = await client
      .get('/transparency/request')
      .withFlashMessages(response.flashMessages())
    assert.match(form.text(), /data-error-for="requester_email"/)
  })

  test('a valid request lands in the queue that only the privacy role sees', async ({
    client,
    assert,
  }) => {
    const sent = await client
      .post('/transparency/request')
      .form({
        requester_name: 'Erika Musterfrau',
        requester_email: 'erika@example.test',
        organisation: 'Beispiel AG',
        topic: 'scc_copy',
        message: 'Bitte senden Sie uns eine Kopie der SCCs.',
      })
      .withCsrfToken()
      .redirects(0)
    sent.assertStatus(302)
    sent.assertFlashMessage(
      'notice',
      'Danke, Ihre Anfrage ist eingegangen. Wir melden uns per E-Mail.'
    )
    const stored = await InformationRequest.findByOrFail('requester_email', 'erika@example.test')
    assert.equal(stored.status, 'open')
    assert.equal(stored.topic, 'scc_copy')

    const officer = await makeUser('privacy_officer')
    await enableTwoFactor(officer)
    const queue = await client.get('/admin/privacy/requests').loginAs(officer)
    queue.assertStatus(200)
    assert.include(queue.text(), 'Erika Musterfrau')

    const support = await makeUser('support')
    await enableTwoFactor(support)
    ;(await client.get('/admin/privacy/requests').loginAs(support)).assertStatus(403)

    const answered = await client
      .put(`/admin/privacy/requests/${stored.id}/answered`)
      .withCsrfToken()
      .loginAs(officer)
      .redirects(0)
    answered.assertStatus(302)
    await stored.refresh()
    assert.equal(stored.status, 'answered')
    assert.equal(stored.handledById, officer.id)
  })
})
