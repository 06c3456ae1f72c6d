import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import { Created, loginThroughForm, uniqueTag, uniqueUser } from '#tests/support/browser'
import { drainJobs } from '#tests/support/jobs'
import { lastMailTo } from '#tests/support/mail'
import { unzipArchive } from '#privacy/services/zip_archive'

/**
 * A user's own rights in the browser: the archive of their data prepared and downloaded as a zip
 * (Art. 15, 20), and a new e-mail address that applies only after the mailed link (Art. 16).
 */
test.group('Privacy self-service in the browser', (group) => {
  const created = new Created()
  group.each.teardown(() => created.cleanup())

  test('a member downloads the archive of their data and changes the address through the mailed link', async ({
    visit,
    assert,
  }) => {
    const member = await uniqueUser(created, 'member')
    const page = await visit('/login')
    await loginThroughForm(page, member.email)
    await page.goto('/app/privacy')
    await page.assertTextContains('h1', 'Meine Daten')

    await Promise.all([page.waitForURL('**/app/privacy'), page.click('#export-form button')])
    await page.assertTextContains('body', 'Ihr Datenarchiv wird erstellt')
    await drainJobs()
    await page.reload()
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#my-requests a[data-download]'),
    ])
    assert.match(download.suggestedFilename(), /^fluffycall-data-\d{4}-\d{2}-\d{2}\.zip$/)
    const files = unzipArchive(await readFile((await download.path())!))
    const users = JSON.parse(files.get('users.json')!.toString())
    assert.equal(users[0].email, member.email)
    assert.isTrue(files.has('manifest.json'))

    const newEmail = `renamed-${uniqueTag()}@example.test`
    created.email(newEmail)
    await page.fill('#field-email', newEmail)
    await Promise.all([page.waitForURL('**/app/privacy'), page.click('#profile-form button')])
    await page.assertTextContains('#pending-email', newEmail)
    await drainJobs()
    const link = /href="([^"]+)"/.exec((await lastMailTo(newEmail))!.html)![1]
    await page.goto(new URL(link).pathname)
    await page.assertPath('/app/privacy')
    await page.assertTextContains('body', 'Ihre neue E-Mail-Adresse ist bestätigt')
    assert.equal(await page.inputValue('#field-email'), newEmail)
  })
})
