import { randomBytes } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import testUtils from '@adonisjs/core/services/test_utils'
import type Company from '#accounts/models/company'
import User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import CallRecord from '#calls/models/call_record'
import DataSubjectRequest from '#privacy/models/data_subject_request'
import DataExportArchive from '#privacy/models/data_export_archive'
import DataSubjectRequestService, {
  RequestError,
} from '#privacy/services/data_subject_request_service'
import DataExportService from '#privacy/services/data_export_service'
import DataSubjectRequestRetentionJob from '#privacy/jobs/data_subject_request_retention_job'
import { unzipArchive } from '#privacy/services/zip_archive'
import { liveColumns } from '#privacy/services/schema_reader'
import { finishedCdr } from '#tests/support/calls'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { drainJobs } from '#tests/support/jobs'
import { lastMailTo, sentMails } from '#tests/support/mail'
import { enableTwoFactor } from '#tests/support/two_factor'
import { binary } from '#tests/support/binary'
import SipDeviceService from '#calls/services/sip_device_service'
import RestrictionService from '#privacy/services/restriction_service'
import EmailChangeService from '#privacy/services/email_change_service'

/**
 * Data-subject requests (Art. 15-21 GDPR): the user's own archive (Art. 15, 20) prepared as a job;
 * the e-mail address changed only after confirmation at the new address (Art. 16); erasure that
 * keeps only what a legal hold keeps and says so (Art. 17); the staff queue with the Art. 12(3)
 * deadline on an injected clock, entered from mail, extended with a reason, closed, audited.
 */
const cdr = (company: Company, user: User, startedAt: DateTime) =>
  finishedCdr(company, user, startedAt, {
    calleeNumber: `+49301${String(startedAt.toMillis()).slice(-6)}`,
  })

/** Whether any mail to `address` says `text` (mails of one request may finish in any order). */
async function mailed(address: string, text: string) {
  return (await sentMails()).some((mail) => mail.to.includes(address) && mail.html.includes(text))
}

/** A user with a name and address found nowhere else in the database. */
async function distinctUser(role: 'member' | 'owner' | 'admin', company: Company) {
  const user = await makeUser(role, company)
  const tag = randomBytes(5).toString('hex')
  user.fullName = `Erika Zyx${tag}`
  user.email = `erika-${tag}@example.test`
  await user.save()
  return user
}

async function privacyOfficer() {
  const officer = await makeUser('privacy_officer')
  await enableTwoFactor(officer)
  return officer
}

test.group('Privacy: data-subject requests', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a user prepares and downloads the archive of their data (Art. 15, 20) as a job', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const member = await distinctUser('member', company)
    const other = await makeUser('member', company)
    const recent = await cdr(company, member, DateTime.utc().minus({ months: 1 }))
    const old = await cdr(company, member, DateTime.utc().minus({ months: 7 }))
    await cdr(company, other, DateTime.utc().minus({ days: 2 }))
    // A colleague's internal call to the member is the member's too (callee_user_id).
    const received = await cdr(company, other, DateTime.utc().minus({ days: 3 }))
    received.merge({ direction: 'internal', calleeUserId: member.id, calleeNumber: '23' })
    await received.save()
    await AuditLog.record({ action: 'auth.login.succeeded', actor: member, ip: '192.0.2.7' })
    // Rows in further registered tables, each to be found in the archive
    await new SipDeviceService().create(member, 'Tischtelefon Empfang')
    await new RestrictionService().restrict(await makeUser('admin', company), member, {
      ground: 'accuracy_contested',
      note: null,
      ip: null,
    })
    await new EmailChangeService().requestChange(member, 'erika-neu@example.test', null)

    const filed = await client
      .post('/app/privacy/export')
      .withCsrfToken()
      .loginAs(member)
      .redirects(0)
    filed.assertStatus(302)
    const request = await DataSubjectRequest.findByOrFail('user_id', member.id)
    assert.equal(request.kind, 'access')
    await drainJobs()
    await request.refresh()
    assert.equal(request.status, 'completed', 'the job prepared the archive and closed the request')
    assert.include((await lastMailTo(member.email))!.html, 'Art. 15, 20')

    const page = await client.get('/app/privacy').loginAs(member)
    page.assertStatus(200)
    assert.include(page.text(), `/app/privacy/exports/${request.id}`)

    const download = await binary(client.get(`/app/privacy/exports/${request.id}`).loginAs(member))
    download.assertStatus(200)
    assert.equal(download.header('content-type'), 'application/zip')
    const files = unzipArchive(download.body() as Buffer)
    const manifest = JSON.parse(files.get('manifest.json')!.toString())
    assert.equal(manifest.subject.email, member.email)
    const users = JSON.parse(files.get('users.json')!.toString())
    assert.equal(users[0].email, member.email)
    assert.equal(users[0].password, '[withheld]', 'the password hash is not handed out')
    assert.include(files.get('users.csv')!.toString(), member.email)
    const calls = JSON.parse(files.get('call_records.json')!.toString())
    assert.sameMembers(
      calls.map((row: any) => row.uuid),
      [recent.uuid, received.uuid],
      'the calls of the last 6 months, only the own (made or received from a colleague)'
    )
    assert.notEqual(old.uuid, recent.uuid)
    const audit = JSON.parse(files.get('audit_entries.json')!.toString())
    assert.isTrue(audit.some((row: any) => row.action === 'auth.login.succeeded'))
    assert.isTrue(files.has('data_subject_requests.json'))
    const device = JSON.parse(files.get('sip_devices.json')!.toString())
    assert.equal(device[0].label, 'Tischtelefon Empfang')
    assert.equal(device[0].ha1_md5, '[withheld]', 'digest secrets are withheld')
    assert.equal(
      JSON.parse(files.get('processing_restrictions.json')!.toString())[0].ground,
      'accuracy_contested'
    )
    assert.equal(
      JSON.parse(files.get('email_change_tokens.json')!.toString())[0].new_email,
      'erika-neu@example.test'
    )
    assert.equal(
      JSON.parse(files.get('email_change_tokens.json')!.toString())[0].token_hash,
      '[withheld]'
    )
    for (const entry of manifest.tables.filter((table: any) => table.rows > 0))
      assert.isTrue(files.has(`${entry.table}.json`), `${entry.table} counted and included`)

    // Nobody else gets it, and a second archive is refused while one is being prepared
    const foreign = await client.get(`/app/privacy/exports/${request.id}`).loginAs(other)
    foreign.assertStatus(404)
  })

  test('the export covers every registered table about users, or names it as unlinked', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    const { manifest } = await new DataExportService().collect(member)
    const unlinked = manifest.filter((entry) => !entry.linked).map((entry) => entry.table)
    // A new personal-data table about users fails here until the export finds its rows (a user_id
    // column or an entry in LINKS), or it is named here with the reason it cannot be linked:
    // running calls' dialog URIs (no user column, gone when the call ends), external callers'
    // Wangiri numbers, alert figures (free-form facts per company, not per user) and breach records
    // (free text about many people, not per user).
    assert.sameMembers(unlinked, [
      'active_call_legs',
      'fraud_flagged_numbers',
      'alerts',
      'alert_events',
      'data_breaches',
    ])
  })

  test('the export carries every column the calls module declares on call_records, call quality included', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    await finishedCdr(company, member, DateTime.utc().minus({ days: 1 }), {
      calleeLossPercent: 4.8,
      calleeJitterMs: 0.7,
      calleeRttMs: 12.5,
      calleeMos: 2.14,
      callerMos: 4.38,
      qualityMos: 2.14,
    })
    const { files } = await new DataExportService().collect(member)
    const [row] = files.get('call_records') ?? []
    const { default: calls } = await import('#calls/personal_data')
    const declared = calls.tables
      .filter((entry) => entry.table === 'call_records')
      .flatMap((entry) => Object.keys(entry.columns))
    for (const column of declared) assert.property(row, column, `${column} is exported`)
    assert.equal(row.callee_loss_percent, 4.8)
    assert.equal(row.callee_rtt_ms, 12.5)
    assert.equal(row.quality_mos, 2.14)
  })

  test('deadlines on an injected clock: one month, extended once by two with a reason, audited and mailed', async ({
    assert,
  }) => {
    const officer = await privacyOfficer()
    const requests = await app.container.make(DataSubjectRequestService)
    const received = DateTime.fromISO('2026-03-31T09:00:00Z')
    let now = received.plus({ days: 3 })
    requests.now = () => now
    const mark = await auditMark()
    const entry = await requests.enterFromMail(
      officer,
      {
        name: 'Max Muster',
        email: 'max-dsr@example.test',
        kind: 'objection',
        details: 'Widerspruch gegen die Betrugsanalyse',
        receivedAt: received,
        userId: null,
        companyId: null,
      },
      '127.0.0.1'
    )
    assert.equal(entry.dueAt.toMillis(), received.plus({ months: 1 }).toMillis())
    assert.equal(entry.channel, 'mail')

    now = received.plus({ days: 29 })
    await requests.extend(officer, entry, 'Viele Anträge nach einer Pressemeldung', '127.0.0.1')
    assert.equal(entry.dueAt.toMillis(), received.plus({ months: 3 }).toMillis())
    await drainJobs()
    assert.isTrue(await mailed('max-dsr@example.test', 'Viele Anträge'), 'the reason is mailed')
    assert.isTrue(await mailed('max-dsr@example.test', 'eingegangen'), 'the receipt is mailed')
    await assert.rejects(
      () => requests.extend(officer, entry, 'noch einmal verlängern', null),
      RequestError
    )

    // A second request runs late: listed as overdue, no longer extendable
    const late = await requests.enterFromMail(
      officer,
      {
        name: 'Eva Spät',
        email: 'eva-dsr@example.test',
        kind: 'access',
        details: null,
        receivedAt: received,
        userId: null,
        companyId: null,
      },
      null
    )
    now = received.plus({ months: 1, days: 1 })
    assert.deepEqual(
      (await requests.overdue()).map((row) => row.id),
      [late.id]
    )
    try {
      await requests.extend(officer, late, 'zu spät für eine Verlängerung', null)
      assert.fail('a passed deadline cannot be extended')
    } catch (error) {
      assert.equal((error as RequestError).reason, 'deadline_passed')
    }

    await requests.close(officer, entry, {
      status: 'rejected',
      outcome: 'Zwingende schutzwürdige Gründe: Schutz vor Gebührenbetrug',
      ip: null,
    })
    await drainJobs()
    assert.isTrue(await mailed('max-dsr@example.test', 'rejected'))
    const actions = (await auditSince(mark)).map((row: any) => row.action)
    assert.includeMembers(actions, [
      'privacy.request.received',
      'privacy.request.extended',
      'privacy.request.rejected',
    ])
  })

  test('staff enter a mailed request, extend and close it through the queue pages', async ({
    client,
    assert,
  }) => {
    const officer = await privacyOfficer()
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    const entered = await client
      .post('/admin/privacy/data-requests')
      .form({
        name: member.fullName,
        email: member.email,
        kind: 'erasure',
        received_on: DateTime.utc().toISODate(),
        details: 'Bitte alles löschen',
      })
      .withCsrfToken()
      .loginAs(officer)
      .redirects(0)
    entered.assertStatus(302)
    const entry = await DataSubjectRequest.findByOrFail('subject_email', member.email)
    assert.equal(entry.userId, member.id, 'linked to the customer account of the address')
    const queue = await client.get('/admin/privacy/data-requests').loginAs(officer)
    queue.assertStatus(200)
    assert.include(queue.text(), `data-id="${entry.id}"`)
    const shown = await client.get(`/admin/privacy/data-requests/${entry.id}`).loginAs(officer)
    shown.assertStatus(200)
    assert.include(shown.text(), 'Art. 17')

    await client
      .put(`/admin/privacy/data-requests/${entry.id}/extend`)
      .form({ reason: 'Rückfrage bei der Firma nötig' })
      .withCsrfToken()
      .loginAs(officer)
    await entry.refresh()
    assert.isNotNull(entry.extendedAt)

    await client
      .put(`/admin/privacy/data-requests/${entry.id}/close`)
      .form({ status: 'completed', outcome: 'Erledigt durch die Firma' })
      .withCsrfToken()
      .loginAs(officer)
    await entry.refresh()
    assert.equal(entry.status, 'completed')
    assert.equal(entry.handledById, officer.id)

    // A customer cannot see the queue
    const refused = await client.get('/admin/privacy/data-requests').loginAs(member)
    assert.notEqual(refused.status(), 200)
  })

  test('a new e-mail address applies only after the link sent to it is opened (Art. 16)', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const member = await distinctUser('member', company)
    const taken = await makeUser('member', company)
    const oldEmail = member.email
    const newEmail = `new-${randomBytes(4).toString('hex')}@example.test`

    const refused = await client
      .post('/app/privacy/profile')
      .form({ full_name: member.fullName, email: taken.email })
      .withCsrfToken()
      .loginAs(member)
      .redirects(0)
    refused.assertStatus(302)
    await member.refresh()
    assert.equal(member.email, oldEmail)

    await client
      .post('/app/privacy/profile')
      .form({ full_name: 'Erika Neu', email: newEmail })
      .withCsrfToken()
      .loginAs(member)
    await member.refresh()
    assert.equal(member.fullName, 'Erika Neu', 'a name applies at once')
    assert.equal(member.email, oldEmail, 'the address waits for the confirmation')
    await drainJobs()
    const link = /href="([^"]+)"/.exec((await lastMailTo(newEmail))!.html)![1]
    const path = new URL(link).pathname
    assert.match(path, /^\/account\/email\/confirm\//)

    const confirmed = await client.get(path).redirects(0)
    confirmed.assertStatus(302)
    await member.refresh()
    assert.equal(member.email, newEmail)
    await drainJobs()
    assert.include((await lastMailTo(oldEmail))!.html, 'datenschutz@fluffycall.de')

    // The link is spent
    await client.get(path).redirects(0)
    member.email = oldEmail
    await member.save()
    await client.get(path).redirects(0)
    await member.refresh()
    assert.equal(member.email, oldEmail, 'a used link changes nothing')
  })

  test('erasure by a company admin: only what a legal hold keeps stays, and the answer says so (Art. 17)', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const admin = await makeUser('admin', company)
    const owner = await makeUser('owner', company)
    const member = await distinctUser('member', company)
    const call = await cdr(company, member, DateTime.utc().minus({ days: 10 }))
    await AuditLog.record({ action: 'auth.login.succeeded', actor: member, ip: '192.0.2.9' })
    await DataSubjectRequest.create({
      companyId: company.id,
      userId: member.id,
      subjectName: member.fullName,
      subjectEmail: member.email,
      kind: 'objection',
      channel: 'self_service',
      details: 'x',
      status: 'open',
      receivedAt: DateTime.utc(),
      dueAt: DateTime.utc().plus({ months: 1 }),
    })

    // A dump of every table: after the erasure the name and address only where a hold keeps them
    const allowed = new Set(['audit_entries', 'data_subject_requests'])
    const traces = async () => {
      const found: string[] = []
      for (const table of (await liveColumns()).keys()) {
        const rows = await db.from(table).select('*')
        const text = JSON.stringify(rows, (_key, value) =>
          Buffer.isBuffer(value) || (value && value.type === 'Buffer') ? '' : value
        )
        if (text.includes(member.email) || text.includes(member.fullName)) found.push(table)
      }
      return found
    }
    assert.includeMembers(await traces(), ['users', 'data_subject_requests', 'audit_entries'])

    const page = await client.get(`/app/privacy/users/${member.id}`).loginAs(admin)
    assert.include(page.text(), 'id="erase-form"')
    assert.include(page.text(), 'TDDDG')

    const erased = await client
      .post(`/app/privacy/users/${member.id}/erase`)
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    erased.assertStatus(302)
    assert.isNull(await User.find(member.id))
    const kept = await CallRecord.findOrFail(call.id)
    assert.isNull(kept.userId, 'the call record stays for billing, no longer linked')
    const record = await DataSubjectRequest.query()
      .where('channel', 'company_admin')
      .where('subject_email', member.email)
      .firstOrFail()
    assert.equal(record.status, 'completed')
    assert.include(record.outcome!, 'TDDDG')
    assert.include(record.outcome!, '1 ')

    assert.deepEqual(
      (await traces()).filter((table) => !allowed.has(table)),
      [],
      'no trace outside the legal holds'
    )

    // An owner is not erased (the company needs one)
    await client.post(`/app/privacy/users/${owner.id}/erase`).withCsrfToken().loginAs(admin)
    assert.isNotNull(await User.find(owner.id))
  })

  test('an objection filed by a member reaches the staff queue and the company owners, and shows on the admin page', async ({
    client,
    assert,
  }) => {
    const company = await makeCompany('active')
    const owner = await makeUser('owner', company)
    const member = await distinctUser('member', company)
    const filed = await client
      .post('/app/privacy/requests')
      .form({ kind: 'objection', details: 'Ich telefoniere beruflich viel ins Ausland.' })
      .withCsrfToken()
      .loginAs(member)
      .redirects(0)
    filed.assertStatus(302)
    const request = await DataSubjectRequest.findByOrFail('user_id', member.id)
    assert.equal(request.kind, 'objection')
    assert.equal(request.channel, 'self_service')
    await drainJobs()
    assert.isTrue(await mailed(member.email, 'Art. 21'), 'the receipt to the member')
    assert.isTrue(
      await mailed(owner.email, `/app/privacy/users/${member.id}`),
      'the owner hears of it with the link'
    )
    assert.isFalse(
      await mailed(owner.email, 'beruflich viel ins Ausland'),
      "the member's reasons stay out of the company mail"
    )
    const page = await client.get(`/app/privacy/users/${member.id}`).loginAs(owner)
    assert.include(page.text(), `data-id="${request.id}" data-kind="objection"`)
  })

  test('retention: archives after 7 days, closed requests after 3 years; open ones stay', async ({
    assert,
  }) => {
    const company = await makeCompany('active')
    const member = await makeUser('member', company)
    const now = DateTime.utc()
    const make = (status: 'open' | 'completed', closedAt: DateTime | null) =>
      DataSubjectRequest.create({
        companyId: company.id,
        userId: member.id,
        subjectName: member.fullName,
        subjectEmail: member.email,
        kind: 'access',
        channel: 'self_service',
        details: null,
        status,
        receivedAt: now.minus({ years: 4 }),
        dueAt: now.minus({ years: 4 }).plus({ months: 1 }),
        closedAt,
      })
    const oldClosed = await make('completed', now.minus({ years: 3, days: 1 }))
    const recentClosed = await make('completed', now.minus({ years: 2 }))
    const open = await make('open', null)
    await DataExportArchive.create({
      requestId: recentClosed.id,
      userId: member.id,
      archive: Buffer.from('zip'),
      sha256: '0'.repeat(64),
      sizeBytes: 3,
      createdAt: now.minus({ days: 8 }),
      expiresAt: now.minus({ days: 1 }),
    })
    await new DataSubjectRequestRetentionJob().handle({ now: now.toISO()! })
    assert.isNull(await DataSubjectRequest.find(oldClosed.id))
    assert.isNotNull(await DataSubjectRequest.find(recentClosed.id))
    assert.isNotNull(await DataSubjectRequest.find(open.id))
    assert.isNull(await DataExportArchive.findBy('request_id', recentClosed.id))
  })
})
