import { extractText, getDocumentProxy } from 'unpdf'
import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { enableTwoFactor } from '#tests/support/two_factor'
import { defaultTariff, ratedCall } from '#tests/support/invoices'
import { auditMark, auditSince } from '#tests/support/audit'
import { forgetCounsellingNumbers } from '#billing/counselling_lines'

async function staff(role: 'superadmin' | 'support' = 'superadmin') {
  const user = await makeUser(role)
  await enableTwoFactor(user)
  return user
}

const numbers = async () =>
  (await db.from('counselling_lines').orderBy('number').select('number')).map((row) => row.number)

const EXCERPT = [
  '49116016',
  '49116111',
  '49116123',
  '498000116016',
  '498001110111',
  '498001110222',
  '498001110333',
  '498001110550',
]

/** The agency's list as a German spreadsheet writes it: BOM, semicolons, national numbers. */
const GOOD = [
  '\uFEFFRufnummer;Bezeichnung;Ort',
  '0800 111 0 111;TelefonSeelsorge;bundesweit',
  '',
  '+49 30 1234500;"Beratungsstelle ""Wegweiser""";Berlin',
  '116 123;TelefonSeelsorge;bundesweit',
  '0049 89-5556667;Suchtberatung;München',
  '0800 1110111;TelefonSeelsorge (doppelt);bundesweit',
].join('\r\n')

test.group('Billing admin: counselling lines (TDDDG § 11(2))', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  // The list is cached in memory: a rolled-back import must not stay in it for the next test
  group.each.teardown(() => forgetCounsellingNumbers())

  test('the migration seeds the excerpt; staff import the agency list, the whole list is replaced, audited, and the itemised list leaves the new numbers out', async ({
    client,
    assert,
  }) => {
    assert.deepEqual(await numbers(), EXCERPT)
    const admin = await staff()
    const page = await client.get('/admin/billing/counselling-lines').loginAs(admin)
    page.assertStatus(200)
    assert.include(page.text(), 'data-number="498001110111"')

    // A company called a counselling line of the old excerpt and one only the new list has
    await defaultTariff()
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    company.itemisedNumbers = 'full'
    await company.save()
    await ratedCall(owner, '+4930123450', 60)
    await ratedCall(owner, '+49301234500', 60)
    await ratedCall(owner, '+498001110333', 60)
    const itemised = async () => {
      const response = await client.get('/app/itemised/2026/6').loginAs(owner)
      response.assertStatus(200)
      const bytes = new Uint8Array(
        (response.response as any).body ?? Buffer.from(response.text(), 'binary')
      )
      return (await extractText(await getDocumentProxy(bytes), { mergePages: true })).text
    }
    const before = await itemised()
    assert.include(before, '+49301234500')
    assert.notInclude(before, '+498001110333')

    const mark = await auditMark()
    const imported = await client
      .post('/admin/billing/counselling-lines')
      .file('file', Buffer.from(GOOD), { filename: 'beratungsstellen.csv' })
      .field('source', 'Bundesnetzagentur, Liste vom 1. November 2026')
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    imported.assertStatus(302)
    const report = imported.flashMessage('counsellingReport')
    assert.deepEqual(report, { replaced: true, read: 5, accepted: 4, refused: [] })
    assert.equal(imported.flashMessage('notice'), '4 Beratungsstellen importiert.')
    assert.deepEqual(await numbers(), ['49116123', '49301234500', '498001110111', '49895556667'])
    const row = await db.from('counselling_lines').where('number', '49301234500').first()
    assert.equal(row.name, 'Beratungsstelle "Wegweiser"')
    assert.equal(row.source, 'Bundesnetzagentur, Liste vom 1. November 2026')
    const audit = await auditSince(mark)
      .where('action', 'billing.counselling_lines.imported')
      .firstOrFail()
    assert.equal(audit.actorId, admin.id)

    // Read from the table after the import: the new number is gone, the dropped one shows again
    const after = await itemised()
    assert.notInclude(after, '+49301234500')
    assert.include(after, '+498001110333')
    assert.include(after, '+4930123450')

    const shown = await client.get('/admin/billing/counselling-lines').loginAs(admin)
    assert.include(shown.text(), 'data-number="49301234500"')
    assert.include(shown.text(), 'Bundesnetzagentur, Liste vom 1. November 2026: 4 Rufnummern')
  }).timeout(60_000)

  test('a file with refused lines replaces nothing and names each line; a file without a number column neither', async ({
    client,
    assert,
  }) => {
    const admin = await staff()
    const mark = await auditMark()
    const send = (csv: string, source = 'BNetzA') =>
      client
        .post('/admin/billing/counselling-lines')
        .file('file', Buffer.from(csv), { filename: 'list.csv' })
        .field('source', source)
        .withCsrfToken()
        .loginAs(admin)
        .redirects(0)

    const broken = await send(
      [
        'number,name',
        '+49 800 1110111,TelefonSeelsorge',
        '=HYPERLINK("http://x";"+49301234500"),Formel',
        '+49 30 1234500,@SUM(1)',
        'keine Nummer,Beratung',
        '+49 30 1234501',
        '+49 30 1234502,Beratung',
      ].join('\n')
    )
    assert.deepEqual(broken.flashMessage('counsellingReport'), {
      replaced: false,
      read: 6,
      accepted: 2,
      refused: [
        'Zeile 3: Eine Zelle beginnt wie eine Tabellenformel mit = + - oder @.',
        'Zeile 4: Eine Zelle beginnt wie eine Tabellenformel mit = + - oder @.',
        'Zeile 5: keine Rufnummer.',
        'Zeile 6: zu wenige Spalten.',
      ],
    })
    assert.deepEqual(await numbers(), EXCERPT)
    const page = await client.get('/admin/billing/counselling-lines').loginAs(admin)
    assert.include(page.text(), 'data-number="498001110111"')

    const headerless = await send('+49 30 1234500,Beratung\n+49 30 1234501,Beratung\n')
    assert.deepEqual(headerless.flashMessage('counsellingReport').refused, [
      'Zeile 1: Die Kopfzeile braucht eine Spalte Rufnummer (oder number).',
    ])
    assert.deepEqual(await numbers(), EXCERPT)
    const noSource = await send('number\n+49 30 1234500\n', '=cmd')
    assert.exists(noSource.flashMessage('errorsBag.source'))
    assert.deepEqual(await numbers(), EXCERPT)
    assert.isNull(
      await auditSince(mark).where('action', 'billing.counselling_lines.imported').first()
    )

    const support = await staff('support')
    ;(await client.get('/admin/billing/counselling-lines').loginAs(support)).assertStatus(403)
    const refused = await client
      .post('/admin/billing/counselling-lines')
      .file('file', Buffer.from('number\n+49 30 1234500\n'), { filename: 'list.csv' })
      .field('source', 'BNetzA')
      .withCsrfToken()
      .loginAs(support)
      .redirects(0)
    refused.assertStatus(403)
    assert.deepEqual(await numbers(), EXCERPT)
  }).timeout(60_000)
})
