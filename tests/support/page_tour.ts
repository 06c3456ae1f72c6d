import FraudSignal from '#fraud/models/fraud_signal'
import FraudReviewCase from '#fraud/models/fraud_review_case'
import { mkdir } from 'node:fs/promises'
import { DateTime } from 'luxon'
import { generate } from 'otplib'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import router from '@adonisjs/core/services/router'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'
import InvitationService from '#accounts/services/invitation_service'
import CallRecord from '#calls/models/call_record'
import CarrierState from '#calls/models/carrier_state'
import CarrierRoute from '#calls/models/carrier_route'
import PhoneNumber from '#calls/models/phone_number'
import SipDeviceService from '#calls/services/sip_device_service'
import CallForwardingService from '#calls/internal/call_forwarding_service'
import NumberForwardingService from '#calls/internal/number_forwarding_service'
import InformationRequest from '#privacy/models/information_request'
import DataSubjectRequest from '#privacy/models/data_subject_request'
import DataBreach from '#privacy/models/data_breach'
import {
  Created,
  loginThroughForm,
  passTwoFactor,
  staffWithTwoFactor,
  uniqueCompany,
  uniqueTag,
  uniqueUser,
} from '#tests/support/browser'
import { fakeCarriers } from '#tests/support/carriers'
import { forgetPhoneUsers } from '#tests/support/calls'
import { lastMailTo } from '#tests/support/mail'
import { drainJobs } from '#tests/support/jobs'
import { makePriceList } from '#tests/support/billing'
import CarrierPurchasePrice from '#billing/models/carrier_purchase_price'
import InvoiceRun from '#billing/models/invoice_run'

export const LANGUAGES = ['de', 'en'] as const
export type Language = (typeof LANGUAGES)[number]

/** What a visible page must never show: missing translations and template syntax. */
export const RAW_MARKERS = [
  'translation missing',
  '@include',
  '@!',
  '@if',
  '@each',
  '@end',
  '{{',
  '}}',
] as const

/** GET routes that are no pages (feeds, JSON, files, redirects, health). */
const NOT_PAGES = new Set([
  '/healthz',
  '/readyz',
  '/metrics',
  '/admin/calls/figures',
  '/locale/:locale',
  '/transparency/sub-processors.json',
  '/transparency/toms.json',
  '/transparency/feed.atom',
  '/transparency/sccs/:key/annexes.txt',
  '/admin/routes',
  // The mailed confirmation link answers with a redirect (to /app, or to the login when spent).
  '/signup/confirm/:token',
  '/admin/fraud/prefixes.csv',
  '/admin/billing/price-lists/:id/versions/:versionId/export',
  '/app/dpa/acceptances/:id/pdf',
  // The stored PDF or XML of an invoice, sent as a file
  '/app/invoices/:id/:kind',
  '/app/itemised/:year/:month',
  '/admin/billing/recapitulative-statement.csv',
  // A pain.008 file of a debit run (payments), sent as a download
  '/admin/billing/payments/debits/:messageId',
  // The zip of a user's data (Art. 15, 20), sent as a download
  '/app/privacy/exports/:id',
  // The record of processing as JSON
  '/admin/privacy/record.json',
  // The link mailed to a new e-mail address answers with a redirect
  '/account/email/confirm/:token',
  // The web phone reads its line state (extension, do not disturb) as JSON
  '/app/phone/line',
  '/app/phone/colleagues',
  // The user's call forwarding as JSON (the web phone may show that it is on)
  '/app/phone/forwarding',
])

/** Phones (iPhone 12-15 class) and a common laptop. */
export const WIDTHS = [1280, 390] as const

export interface Stop {
  /** The context (who) that opens the page. */
  who: 'visitor' | 'owner' | 'member' | 'staff' | 'staff_at_2fa'
  path: string
  /** The route pattern this stop covers (defaults to `path`). */
  pattern?: string
  /** Runs instead of a plain `goto` (pages reached by a form post). */
  open?: (page: Page) => Promise<unknown>
}

/**
 * Every page of the product, as the four kinds of people see them, with enough data that the
 * tables have rows: a company with owner and member, numbers, a device, calls, an invitation,
 * audit entries with details, a route, an information request, and a superadmin with 2FA.
 * Browser tests run outside a transaction: `cleanup()` removes what was created.
 */
export class PageTour {
  created = new Created()
  contexts = new Map<Stop['who'], BrowserContext>()
  pages = new Map<Stop['who'], Page>()
  stops: Stop[] = []
  #restoreCarriers: (() => void) | null = null
  #routeIds: number[] = []
  #requestIds: number[] = []
  #priceListIds: number[] = []
  #alertIds: number[] = []
  #invoiceRunIds: number[] = []
  #purchasePriceIds: number[] = []
  #reviewCaseIds: number[] = []
  #dataRequestIds: number[] = []
  #breachIds: number[] = []
  #prefix = ''
  #sharedNumberId = 0
  #member!: User

  static async start(browser: Browser) {
    const tour = new PageTour()
    try {
      await tour.#build(browser)
    } catch (error) {
      // Open pages hold the docked phones' WebSockets, which keep the test server from closing.
      await tour.close().catch(() => {})
      throw error
    }
    return tour
  }

  async #build(browser: Browser) {
    this.#restoreCarriers = await fakeCarriers()
    const company = await uniqueCompany(this.created)
    company.legalForm = 'GmbH'
    await company.save()
    const owner = await uniqueUser(this.created, 'owner', company)
    this.#member = await uniqueUser(this.created, 'member', company)
    const pending = await uniqueCompany(this.created, 'pending')
    await uniqueUser(this.created, 'owner', pending)
    const { user: staff, secret } = await staffWithTwoFactor(this.created)
    await this.#data(company, owner, this.#member)

    const baseURL = `http://${process.env.HOST}:${process.env.PORT}`
    for (const who of ['visitor', 'owner', 'member', 'staff', 'staff_at_2fa'] as const) {
      const context = await browser.newContext({
        baseURL,
        locale: 'de-DE',
        viewport: { width: 1280, height: 800 },
      })
      this.contexts.set(who, context)
      this.pages.set(who, await context.newPage())
    }
    await loginThroughForm(this.pages.get('owner')!, owner.email)
    await loginThroughForm(this.pages.get('member')!, this.#member.email)
    await loginThroughForm(this.pages.get('staff')!, staff.email)
    await passTwoFactor(this.pages.get('staff')!, secret)
    // Password given, code not yet: the 2FA prompt
    await loginThroughForm(this.pages.get('staff_at_2fa')!, staff.email)

    // Links that only arrive by mail
    const invitee = `invitee-${uniqueTag()}@example.test`
    await new InvitationService().invite(company, invitee, 'member', owner, '127.0.0.1')
    // Mails go through the job queue (in process without Redis): wait for it.
    await drainJobs()
    const invitationLink = new URL(/href="([^"]+)"/.exec((await lastMailTo(invitee))!.html)![1])
    const visitor = this.pages.get('visitor')!
    await visitor.goto('/password/forgot')
    await visitor.fill('#field-email', this.#member.email)
    await Promise.all([
      visitor.waitForURL('**/login'),
      visitor.click('main form button[type="submit"]'),
    ])
    await drainJobs()
    const resetLink = new URL(
      /href="([^"]+)"/.exec((await lastMailTo(this.#member.email))!.html)![1]
    )
    const routeId = this.#routeIds[0]
    const priceListId = this.#priceListIds[0]
    const reviewCaseId = this.#reviewCaseIds[0]
    const alertId = this.#alertIds[0]
    // The tables the layout test is about must have rows
    for (const [page, path, rows] of [
      [visitor, '/transparency/sub-processors', '#sub-processors tbody tr'],
      [this.pages.get('staff')!, '/admin/audit', '#audit-entries tbody tr'],
    ] as const) {
      await page.goto(path)
      if ((await page.locator(rows).count()) < 2)
        throw new Error(`the tour's data is missing on ${path}`)
    }

    this.stops = [
      ...[
        '/',
        '/login',
        '/signup',
        '/password/forgot',
        '/privacy',
        '/transparency',
        '/transparency/sub-processors',
        '/transparency/toms',
        '/transparency/transfers',
        '/transparency/sccs',
        '/transparency/history',
        '/transparency/request',
        '/does-not-exist',
      ].map((path) => ({ who: 'visitor' as const, path })),
      { who: 'visitor', path: resetLink.pathname, pattern: '/password/reset/:token' },
      { who: 'visitor', path: invitationLink.pathname, pattern: '/invitations/:token' },
      { who: 'staff_at_2fa', path: '/login/2fa' },
      ...[
        '/app',
        '/app/team',
        '/app/audit',
        '/app/phone',
        '/app/phone/settings',
        '/app/devices',
        '/app/calls',
        '/app/calls?scope=company',
        '/app/numbers',
        '/app/sub-processors',
        '/app/dpa',
        '/app/privacy',
        '/app/account/end',
        '/app/invoices',
        '/app/billing/payment',
        '/app/spend',
        '/account/security',
        '/account/2fa',
        '/',
      ].map((path) => ({ who: 'owner' as const, path })),
      {
        who: 'owner',
        path: '/app/devices',
        pattern: '/app/devices (new device)',
        open: (page) => this.#addDevice(page),
      },
      {
        who: 'owner',
        path: `/app/privacy/users/${this.#member.id}`,
        pattern: '/app/privacy/users/:id',
      },
      {
        who: 'owner',
        path: `/app/numbers/${this.#sharedNumberId}/forwarding`,
        pattern: '/app/numbers/:id/forwarding',
      },
      ...[
        '/app',
        '/app/phone',
        '/app/calls',
        '/app/devices',
        '/app/phone/settings',
        '/app/sub-processors',
        '/app/dpa',
        '/app/privacy',
        '/app/spend',
        '/account/security',
        '/account/2fa',
        '/app/team',
      ].map((path) => ({ who: 'member' as const, path })),
      {
        who: 'member',
        path: '/account/2fa',
        pattern: '/account/2fa (recovery codes)',
        open: (page) => this.#recoveryCodes(page),
      },
      ...[
        '/admin',
        '/admin/companies',
        '/admin/companies?status=pending',
        `/admin/companies/${company.id}`,
        `/admin/companies/${pending.id}`,
        '/admin/roles',
        '/admin/audit',
        '/admin/staff',
        '/admin/calls/live',
        '/admin/calls/quality',
        '/admin/sip-locks',
        '/admin/alerts',
        `/admin/alerts/${alertId}`,
        `/admin/fraud/companies/${company.id}`,
        '/admin/fraud/prefixes',
        '/admin/fraud/reviews',
        `/admin/fraud/reviews/${reviewCaseId}`,
        '/admin/carriers',
        '/admin/carriers/eu_alpha',
        '/admin/carriers/us_gamma',
        '/admin/carriers/local',
        '/admin/numbers',
        '/admin/numbers/import',
        '/admin/numbers/assign',
        '/admin/numbers/block',
        '/admin/routes/eu',
        `/admin/routes/eu/${routeId}/edit`,
        '/admin/privacy/requests',
        '/admin/privacy/data-requests',
        '/admin/privacy/record',
        '/admin/privacy/breaches',
        '/admin/privacy/holds',
        `/admin/privacy/breaches/${this.#breachIds[0]}`,
        `/admin/privacy/data-requests/${this.#dataRequestIds[0]}`,
        '/admin/billing/price-lists',
        `/admin/billing/price-lists/${priceListId}`,
        '/admin/billing/purchase-prices',
        '/admin/billing/counselling-lines',
        '/admin/billing/invoice-runs',
        `/admin/billing/invoice-runs/${this.#invoiceRunIds[0]}`,
        '/admin/billing/payments/debits',
        '/admin/billing/payments/overdue',
        '/account/security',
        '/account/2fa',
      ].map((path) => ({ who: 'staff' as const, path })),
    ]
    this.stops.find((stop) => stop.path === `/admin/companies/${company.id}`)!.pattern =
      '/admin/companies/:id'
    this.stops.find((stop) => stop.path === '/admin/carriers/eu_alpha')!.pattern =
      '/admin/carriers/:name'
    this.stops.find((stop) => stop.path === `/admin/fraud/companies/${company.id}`)!.pattern =
      '/admin/fraud/companies/:id'
    this.stops.find((stop) => stop.path === `/admin/fraud/reviews/${reviewCaseId}`)!.pattern =
      '/admin/fraud/reviews/:id'
    this.stops.find((stop) => stop.path === '/admin/routes/eu')!.pattern = '/admin/routes/:region'
    this.stops.find((stop) => stop.path.endsWith('/edit'))!.pattern =
      '/admin/routes/:region/:id/edit'
    this.stops.find((stop) => stop.path === `/admin/billing/price-lists/${priceListId}`)!.pattern =
      '/admin/billing/price-lists/:id'
    this.stops.find(
      (stop) => stop.path === `/admin/privacy/data-requests/${this.#dataRequestIds[0]}`
    )!.pattern = '/admin/privacy/data-requests/:id'
    this.stops.find(
      (stop) => stop.path === `/admin/privacy/breaches/${this.#breachIds[0]}`
    )!.pattern = '/admin/privacy/breaches/:id'
    this.stops.find((stop) => stop.path === `/admin/alerts/${alertId}`)!.pattern =
      '/admin/alerts/:id'
    this.stops.find(
      (stop) => stop.path === `/admin/billing/invoice-runs/${this.#invoiceRunIds[0]}`
    )!.pattern = '/admin/billing/invoice-runs/:id'
  }

  async #data(company: Company, owner: User, member: User) {
    const tag = uniqueTag()
    // An active EU carrier and an announced one with transfers to the USA: the sub-processor tables have rows
    await CarrierState.updateOrCreate(
      { carrierName: 'eu_alpha' },
      { enabled: true, lifecycle: 'active', activatedAt: DateTime.utc() }
    )
    await CarrierState.updateOrCreate(
      { carrierName: 'us_gamma' },
      {
        enabled: true,
        lifecycle: 'announced',
        announcedAt: DateTime.utc(),
        effectiveAt: DateTime.utc().plus({ days: 30 }),
      }
    )
    this.#prefix = `+4930${String(Math.floor(Math.random() * 9_000_000) + 1_000_000)}`
    await PhoneNumber.create({
      number: `${this.#prefix}0`,
      carrierName: 'eu_alpha',
      companyId: company.id,
      userId: member.id,
      assignedAt: DateTime.utc(),
    })
    const shared = await PhoneNumber.create({
      number: `${this.#prefix}1`,
      carrierName: 'eu_alpha',
      companyId: company.id,
      userId: null,
      assignedAt: DateTime.utc(),
    })
    this.#sharedNumberId = shared.id
    await new NumberForwardingService(new CallForwardingService()).update(
      company,
      shared,
      {
        always: { target: { kind: 'off' } },
        no_answer: { target: { kind: 'colleague', userId: member.id }, ringSeconds: 15 },
        unreachable: { target: { kind: 'external', number: '+491712345679' } },
      },
      { actor: owner, ip: null }
    )
    await PhoneNumber.create({
      number: `${this.#prefix}2`,
      carrierName: 'eu_beta',
      companyId: null,
      userId: null,
      assignedAt: null,
    })
    const started = DateTime.utc().minus({ hours: 2 })
    for (const [index, user] of [owner, member].entries()) {
      await CallRecord.create({
        uuid: `tour-${tag}-${index}`,
        companyId: company.id,
        userId: user.id,
        direction: 'outbound',
        emergency: false,
        callerNumber: `${this.#prefix}0`,
        calleeNumber: '+4989123456789',
        callerWithheld: false,
        carrierName: 'eu_alpha',
        region: 'eu',
        startedAt: started,
        answeredAt: started.plus({ seconds: 5 }),
        endedAt: started.plus({ seconds: 125 }),
        durationSeconds: 120,
        sipStatus: 200,
        disconnectCause: 'answered_normal',
        hungUpBy: 'caller',
        // The call history's quality label at its longest (Schlecht) and a good one
        qualityMos: index === 0 ? 2.14 : 4.38,
      } as Partial<CallRecord>)
    }
    // A forwarded call, the outbound call its external forwarding placed, and the member's rules
    const forwarded = `tour-${tag}-forwarded`
    for (const [uuid, direction, from, to, extra] of [
      [
        forwarded,
        'inbound',
        '+4940555666777',
        `${this.#prefix}0`,
        { forwardedTo: '+491712345678', forwardReason: 'no_answer' },
      ],
      [
        `tour-${tag}-forwarding`,
        'outbound',
        `${this.#prefix}0`,
        '+491712345678',
        { forwardedFromUuid: forwarded },
      ],
    ] as const)
      await CallRecord.create({
        uuid,
        companyId: company.id,
        userId: member.id,
        direction,
        emergency: false,
        callerNumber: from,
        calleeNumber: to,
        callerWithheld: false,
        carrierName: 'eu_alpha',
        region: 'eu',
        startedAt: started.plus({ minutes: 5 }),
        answeredAt: started.plus({ minutes: 5, seconds: 20 }),
        endedAt: started.plus({ minutes: 7 }),
        durationSeconds: 100,
        sipStatus: 200,
        disconnectCause: 'answered_normal',
        hungUpBy: 'caller',
        ...extra,
      } as Partial<CallRecord>)
    await new CallForwardingService().update(
      member,
      company,
      {
        busy: { target: { kind: 'colleague', userId: owner.id } },
        no_answer: { target: { kind: 'external', number: '+491712345678' }, ringSeconds: 25 },
      },
      { actor: member, ip: null }
    )
    await new SipDeviceService().create(member, 'Yealink T54W Empfang')
    const route = await CarrierRoute.create({
      region: 'eu',
      prefix: `49${tag.slice(0, 6).replace(/\D/g, '1')}`,
      carrierName: 'eu_alpha',
      priority: 1,
      weight: 100,
    })
    this.#routeIds.push(route.id)
    // Company prices valid from tomorrow (still editable: every form shows) with long destination names, and a purchase price
    const tomorrow = DateTime.now()
      .setZone('Europe/Berlin')
      .plus({ days: 1 })
      .startOf('day')
      .toUTC()
      .toISO()!
    const priceList = await makePriceList(
      company.id,
      [
        {
          validFrom: tomorrow,
          rates: [
            { prefix: '49', destination: 'Deutschland Festnetz und Ortsnetze', price: 8_900 },
            {
              prefix: '4915',
              destination: 'Deutschland Mobilfunk (Telekom, Vodafone, Telefónica)',
              price: 99_000,
              fee: 15_000,
              increment: '60/60',
            },
          ],
        },
      ],
      `Tour ${tag}`
    )
    this.#priceListIds.push(priceList.id)
    const purchase = await CarrierPurchasePrice.create({
      carrierName: 'eu_alpha',
      prefix: `49${tag.slice(0, 6).replace(/\D/g, '1')}`,
      pricePerMinute: 5_000,
    })
    this.#purchasePriceIds.push(purchase.id)
    // A company in the fraud review queue, its evidence with long figures
    const signal = await FraudSignal.create({
      companyId: company.id,
      userId: member.id,
      signal: 'wangiri',
      level: 'critical',
      alertKey: `fraud:wangiri:company:${company.id}:inbound`,
      facts: {
        calls: 12,
        numbers: '+23276123450, +23276123451, +23276123452, +23276123453, +23276123454',
        countries: 'SL, CU',
        withinMinutes: 60,
      },
      createdAt: DateTime.utc(),
    })
    const reviewCase = await FraudReviewCase.create({
      companyId: company.id,
      status: 'open',
      signalId: signal.id,
      previousSuspension: 'none',
    })
    this.#reviewCaseIds.push(reviewCase.id)
    // An invoice run with one result of each kind (no invoice is issued: those cannot be deleted)
    const run = await InvoiceRun.create({
      periodYear: 2026,
      periodMonth: 6,
      startedById: null,
      status: 'finished',
      issuedCount: 1,
      skippedCount: 1,
      failedCount: 1,
      results: [
        {
          companyId: company.id,
          company: company.displayName,
          outcome: 'issued',
          detail: 'RE-2026-000001',
        },
        {
          companyId: company.id,
          company: company.displayName,
          outcome: 'skipped',
          detail: 'nothing_to_bill',
        },
        {
          companyId: company.id,
          company: company.displayName,
          outcome: 'failed',
          detail: 'carrier database unreachable',
        },
      ],
      startedAt: DateTime.utc(),
      finishedAt: DateTime.utc(),
    })
    this.#invoiceRunIds.push(run.id)
    const request = await InformationRequest.create({
      requesterName: `Tour ${tag}`,
      requesterEmail: `tour-${tag}@example.test`,
      organisation: 'Beispiel AG',
      topic: 'sub_processors',
      message:
        'Bitte senden Sie uns die Liste der Unterauftragsverarbeiter mit allen Standorten und den Standardvertragsklauseln.',
      locale: 'de',
      status: 'open',
    } as Partial<InformationRequest>)
    this.#requestIds.push(request.id)
    // An objection of the member in the data-subject queue (deleted with the company)
    const objection = await DataSubjectRequest.create({
      companyId: company.id,
      userId: member.id,
      subjectName: member.fullName,
      subjectEmail: member.email,
      kind: 'objection',
      channel: 'self_service',
      details:
        'Ich widerspreche der Auswertung meiner Anrufe für die Betrugserkennung, weil ich beruflich regelmäßig ins Ausland telefoniere.',
      status: 'open',
      receivedAt: DateTime.utc(),
      dueAt: DateTime.utc().plus({ months: 1 }),
    })
    this.#dataRequestIds.push(objection.id)
    const breach = await DataBreach.create({
      title: `Tour ${tag}: Fehlversand einer Rechnungsübersicht`,
      nature:
        'Eine Rechnungsübersicht mit Rufnummern wurde an die falsche Firmenadresse gesendet und dort gelesen.',
      dataConcerned: 'Rufnummern und Verbindungszeiten von etwa 12 Benutzern einer Firma',
      consequences: 'Geringes Risiko: Empfänger zur Löschung verpflichtet.',
      measures: 'Empfänger hat die Löschung bestätigt; Versandprüfung ergänzt.',
      role: 'both',
      becameAwareAt: DateTime.utc().minus({ hours: 5 }),
      authorityDueAt: DateTime.utc().plus({ hours: 67 }),
      authorityNotifiedAt: null,
      authorityReference: null,
      delayReason: null,
      status: 'open',
      recordedById: null,
      createdAt: DateTime.utc(),
      closedAt: null,
    })
    this.#breachIds.push(breach.id)
    // An open alert with long figures about the company, and a cleared one: both alert tables have rows
    const alerts = await app.container.make('alerts')
    const alert = await alerts.raise(
      `tour.fraud:${tag}`,
      'critical',
      {
        destination: 'Sierra Leone (+232), Mobilfunk, Hochrisikobereich',
        callsInTenMinutes: 48,
        baselineCallsPerWeek: 0,
        firstCall: '2026-12-01 03:12 Europe/Berlin',
        reason: 'Anrufserie in ein selten angerufenes Land außerhalb der Geschäftszeiten',
      },
      { companyId: company.id, kind: 'tour' }
    )
    await alerts.raise(
      `tour.ops:${tag}`,
      'warning',
      { carrier: 'eu_alpha', failedOptionsChecks: 3 },
      { kind: 'tour' }
    )
    await alerts.clear(`tour.ops:${tag}`)
    this.#alertIds.push(
      alert.id,
      (await db.from('alerts').where('key', `tour.ops:${tag}`).firstOrFail()).id
    )
    // Audit entries with long details: the audit table must still fit
    await AuditLog.record({
      action: 'company.status.changed',
      actor: owner,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: {
        from: 'pending',
        to: 'active',
        reason:
          'Handelsregistereintrag HRB 123456 geprüft, Umsatzsteuer-ID bestätigt, alles in Ordnung',
      },
      ip: '2001:db8:85a3:0000:0000:8a2e:0370:7334',
    })
    await AuditLog.record({
      action: 'role.permissions.changed',
      actor: owner,
      companyId: company.id,
      target: { type: 'role', id: 'admin' },
      details: {
        granted: ['company.users.manage', 'company.audit.view', 'numbers.assign'],
        revoked: ['calls.history.company'],
      },
      ip: '127.0.0.1',
    })
  }

  async #addDevice(page: Page) {
    await page.goto('/app/devices')
    await page.fill('#field-label', 'Snom D785 Büro')
    await Promise.all([
      page.waitForLoadState('load'),
      page.click('#device-form button[type="submit"]'),
    ])
    await page.waitForSelector('#device-created')
  }

  /** The recovery codes are shown once, after 2FA is turned on; it is turned off again afterwards. */
  async #recoveryCodes(page: Page) {
    await page.goto('/account/2fa')
    const secret = (await page.textContent('#totp-secret'))!.trim()
    await page.fill('#field-code', await generate({ secret }))
    await Promise.all([
      page.waitForLoadState('load'),
      page.click('#two-factor-setup-form button[type="submit"]'),
    ])
    await page.waitForSelector('#recovery-codes')
    // The next visit must find 2FA off again (for the other language)
    await db
      .from('users')
      .where('id', this.#member.id)
      .update({ totp_secret: null, totp_enabled_at: null })
  }

  #walk: Promise<{ words: string[]; layout: string[] }> | null = null

  /**
   * Opens every stop once per language and collects what is wrong: raw keys and template syntax
   * in the visible text (`words`), and at each width a page wider than the screen or an element
   * sticking out of its card (`layout`, with a screenshot in tmp/screens); at 1,280 px also a table
   * that has to scroll inside its box.
   */
  walk() {
    this.#walk ??= this.#walkAll()
    return this.#walk
  }

  async #walkAll() {
    const words: string[] = []
    const layout: string[] = []
    // The people walk at the same time, each in their own context and its one page, their own
    // stops in order (a stop may leave state for the next one of the same person).
    const people = [...new Set(this.stops.map((stop) => stop.who))]
    await Promise.all(
      people.map(async (who) => {
        for (const language of LANGUAGES) {
          await this.speak(who, language)
          for (const stop of this.stops.filter((candidate) => candidate.who === who)) {
            await this.#check(stop, language, words, layout)
          }
        }
      })
    )
    return { words: words.sort(), layout: layout.sort() }
  }

  /** One stop in one language: its words, and its layout at each width. */
  async #check(stop: Stop, language: Language, words: string[], layout: string[]) {
    const page = await this.open(stop)
    const where = `${stop.who} ${stop.path} [${language}]`
    const lang = await page.getAttribute('html', 'lang')
    if (lang !== language) words.push(`${where}: html lang is ${lang}`)
    const text = await page.innerText('body')
    for (const marker of RAW_MARKERS) {
      const at = text.indexOf(marker)
      if (at >= 0)
        words.push(`${where}: "${text.slice(Math.max(0, at - 40), at + 60).replace(/\s+/g, ' ')}"`)
    }
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 800 })
      const found = await page.evaluate(measureOverflow, width)
      // On a laptop even the wide tables fit (on a phone they may scroll inside their box)
      if (width === WIDTHS[0] && found.scrollingTables.length) {
        layout.push(
          `${where} at ${width}px: tables scroll sideways: ${found.scrollingTables.join(', ')}`
        )
      }
      if (found.scrollWidth > width || found.spills.length) {
        const shot = await this.screenshot(
          page,
          `layout-${stop.who}-${stop.path}-${language}-${width}`
        )
        layout.push(
          `${where} at ${width}px: page ${found.scrollWidth}px wide; out of the screen: ${found.wide.join(', ')}; out of the card: ${found.spills.join(', ')} (${shot})`
        )
      }
    }
    await page.setViewportSize({ width: WIDTHS[0], height: 800 })
  }

  /** Switches a context's language the way the DE/EN links do (the cookie). */
  async speak(who: Stop['who'], language: Language) {
    const baseURL = `http://${process.env.HOST}:${process.env.PORT}`
    await this.contexts.get(who)!.addCookies([{ name: 'locale', value: language, url: baseURL }])
  }

  /** Opens a stop and returns the page (already in the chosen language). */
  async open(stop: Stop) {
    const page = this.pages.get(stop.who)!
    if (stop.open) await stop.open(page)
    else await page.goto(stop.path)
    return page
  }

  /** GET routes of the app that render a page but no stop visits. */
  uncovered() {
    const covered = new Set(this.stops.map((stop) => (stop.pattern ?? stop.path).split('?')[0]))
    const patterns = Object.values(router.toJSON())
      .flat()
      .filter((route) => route.methods.includes('GET'))
      .map((route) => route.pattern)
    return patterns.filter(
      (pattern) => !covered.has(pattern) && !NOT_PAGES.has(pattern) && !pattern.startsWith('/__')
    )
  }

  async screenshot(page: Page, name: string) {
    await mkdir(app.tmpPath('screens'), { recursive: true })
    const path = app.tmpPath('screens', `${name.replace(/[^a-z0-9]+/gi, '_')}.png`)
    await page.screenshot({ path, fullPage: true })
    return path
  }

  async close() {
    for (const context of this.contexts.values()) await context.close()
    await db
      .from('phone_number_forwardings')
      .whereIn(
        'phone_number_id',
        db.from('phone_numbers').where('number', 'like', `${this.#prefix}%`).select('id')
      )
      .delete()
    await db.from('phone_numbers').where('number', 'like', `${this.#prefix}%`).delete()
    await db
      .from('call_records')
      .whereIn('user_id', [...this.created.userIds])
      .delete()
    await db
      .from('sip_devices')
      .whereIn('user_id', [...this.created.userIds])
      .delete()
    await db
      .from('call_forwardings')
      .whereIn('user_id', [...this.created.userIds])
      .delete()
    // The phone page registered the web phone of owner and member
    await forgetPhoneUsers([...this.created.userIds])
    await db.from('carrier_routes').whereIn('id', this.#routeIds).delete()
    await db.from('carrier_states').whereIn('carrier_name', ['eu_alpha', 'us_gamma']).delete()
    await db.from('information_requests').whereIn('id', this.#requestIds).delete()
    await db.from('data_breaches').whereIn('id', this.#breachIds).delete()
    await db.from('alert_events').whereIn('alert_id', this.#alertIds).delete()
    await db.from('alerts').whereIn('id', this.#alertIds).delete()
    const versionIds = db
      .from('price_list_versions')
      .whereIn('price_list_id', this.#priceListIds)
      .select('id')
    await db.from('price_list_rates').whereIn('price_list_version_id', versionIds).delete()
    await db.from('price_list_versions').whereIn('price_list_id', this.#priceListIds).delete()
    await db.from('price_lists').whereIn('id', this.#priceListIds).delete()
    await db.from('carrier_purchase_prices').whereIn('id', this.#purchasePriceIds).delete()
    await db.from('fraud_review_cases').whereIn('id', this.#reviewCaseIds).delete()
    await db
      .from('fraud_signals')
      .where('alert_key', 'like', 'fraud:wangiri:company:%')
      .whereIn('user_id', [...this.created.userIds])
      .delete()
    await db.from('invoice_runs').whereIn('id', this.#invoiceRunIds).delete()
    await this.created.cleanup()
    this.#restoreCarriers?.()
  }
}

/** Runs in the page: the document's width, the outermost elements beyond the screen and those beyond their card. */
function measureOverflow(width: number) {
  const document = (globalThis as any).document
  const describe = (element: any) =>
    `${element.tagName.toLowerCase()}${element.id ? '#' + element.id : ''} "${String(element.textContent).trim().slice(0, 30)}"`
  const all: any[] = [...document.querySelectorAll('body *')]
  const wide = all
    .filter((element) => element.getBoundingClientRect().right > width + 1)
    .filter(
      (element) =>
        !(element.parentElement && element.parentElement.getBoundingClientRect().right > width + 1)
    )
    .slice(0, 3)
    .map(describe)
  const spills: string[] = []
  for (const card of document.querySelectorAll('main .card')) {
    const box = card.getBoundingClientRect()
    for (const element of card.querySelectorAll('*')) {
      // A table's own scroll box may hold more than the card shows
      if (element.closest('.table-scroll')) continue
      const rect = element.getBoundingClientRect()
      if (rect.width > 0 && rect.right > box.right + 1) spills.push(describe(element))
    }
  }
  const scrollingTables = [...document.querySelectorAll('.table-scroll')]
    .filter((box: any) => box.scrollWidth > box.clientWidth + 1)
    .map(
      (box: any) =>
        `${describe(box.firstElementChild)} ${box.scrollWidth}px in ${box.clientWidth}px`
    )
  return {
    scrollWidth: document.documentElement.scrollWidth as number,
    wide,
    spills: spills.slice(0, 3),
    scrollingTables: scrollingTables as string[],
  }
}
