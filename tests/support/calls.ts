import type { LocalCarrierConfig } from '#plugins/carriers/local/types'
import { randomBytes } from 'node:crypto'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { carriers, defineConfig } from '#calls/carriers/define_config'
import CarrierState from '#calls/models/carrier_state'
import CarrierRoute from '#calls/models/carrier_route'
import PhoneNumber from '#calls/models/phone_number'
import CallRecord from '#calls/models/call_record'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import { fakeCarriers } from '#tests/support/carriers'
import { until } from '#tests/support/server_process'
import { userSubject } from '#calls/signalling/sip_subject'

/**
 * Loopback carriers for call tests: each name becomes a `local` carrier on 127.0.0.1 at its
 * port, active, on the region's default route in the given order (priority 1, 2, ...), and the
 * first one carries 110/112. Returns the restore function.
 */
export async function loopbackCarriers(
  ports: Record<string, number>,
  /** What every one of them declares besides its port (a profile's caller ID signalling, say). */
  profile: Omit<LocalCarrierConfig, 'port'> = {}
) {
  const names = Object.keys(ports)
  const restore = await fakeCarriers(
    defineConfig({
      announcementNoticeDays: 30,
      regions: {
        eu: {
          carriers: Object.fromEntries(
            names.map((name) => [name, carriers.local({ ...profile, port: ports[name] })])
          ),
          emergencyCarriers: names.slice(0, 1),
        },
      },
      nonCarrierSubProcessors: [],
    })
  )
  await routeAllCallsTo(names)
  return restore
}

/**
 * Every EU call goes to these carriers, in this order (priority 1, 2, ...), each active; no other
 * carrier state or route is left. The carriers themselves come from the configuration.
 */
export async function routeAllCallsTo(names: string[]) {
  await CarrierRoute.query().delete()
  await CarrierState.query().delete()
  for (const [index, name] of names.entries()) {
    await CarrierState.create({
      carrierName: name,
      enabled: true,
      lifecycle: 'active',
      activatedAt: DateTime.utc(),
    })
    await CarrierRoute.create({
      region: 'eu',
      prefix: '',
      carrierName: name,
      priority: index + 1,
      weight: 100,
    })
  }
}

/** A number of ours, held at `carrier`, assigned to the company (and a user). */
export async function ourNumber(
  number: string,
  carrier: string,
  company: Company,
  userId: number | null = null
) {
  return PhoneNumber.create({
    number,
    carrierName: carrier,
    companyId: company.id,
    userId,
    assignedAt: DateTime.utc(),
  })
}

/** The B2BUA of the test process, taking INVITEs (the SIP stack tests install their own handlers). */
export async function startB2bua() {
  const b2bua = await app.container.make('calls.b2bua')
  b2bua.start()
  return b2bua
}

/** Waits until the CDR of the newest call is complete (or fails after `ms`). */
export async function completedCdr(ms = 10_000): Promise<CallRecord> {
  const deadline = Date.now() + ms
  for (;;) {
    const record = await CallRecord.query().orderBy('id', 'desc').first()
    if (record?.endedAt) return record
    if (Date.now() > deadline)
      throw new Error(
        `no completed CDR within ${ms} ms (newest: ${JSON.stringify(record?.serialize())})`
      )
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * Browser tests run outside a transaction: what a phone test left for its users (bindings,
 * web phone logins, numbers, CDRs) is removed here, before the users themselves.
 */
export async function forgetPhoneUsers(userIds: number[]) {
  const stack = await app.container.make('sip.stack')
  for (const userId of userIds.splice(0)) {
    for (const binding of await stack.registrar.registrar.lookupSubject(userSubject(userId)))
      await stack.registrar.bindings.remove(binding)
    await db.from('web_phone_credentials').where('user_id', userId).delete()
    await db.from('phone_numbers').where('user_id', userId).delete()
    await db.from('call_records').where('user_id', userId).delete()
  }
}

/**
 * Ends a running call once the caller's audio reaches the B2BUA, as staff would. A sipp phone
 * starts its audio in the step after its ACK; a BYE that arrives before that step is "unexpected"
 * to sipp (its exit code turns 1), so tests end answered sipp calls through this. Resolves with
 * what B2bua.end answered.
 */
export async function endOnceTalking(
  uuid: string,
  b2bua?: {
    calls: Array<{ uuid: string; session: { callerPacketsReceived: number } }>
    end(uuid: string): Promise<boolean>
  },
  ms = 10_000
) {
  const calls = b2bua ?? (await app.container.make('calls.b2bua'))
  await until(`audio from the caller of ${uuid}`, ms, async () =>
    calls.calls.some((call) => call.uuid === uuid && call.session.callerPacketsReceived > 0)
  )
  return calls.end(uuid)
}

/**
 * A finished, answered outbound CDR of `user` that started at `startedAt` (explicit timestamps,
 * no clock faking): two minutes long, answered after five seconds. `overrides` set any column.
 */
export async function finishedCdr(
  company: Company,
  user: User,
  startedAt: DateTime,
  overrides: Partial<CallRecord> = {}
) {
  return CallRecord.create({
    uuid: `${randomBytes(8).toString('hex')}-cdr`,
    companyId: company.id,
    userId: user.id,
    direction: 'outbound',
    emergency: false,
    callerNumber: '+4930111222',
    calleeNumber: '+4930333444',
    callerWithheld: false,
    region: 'eu',
    startedAt,
    answeredAt: startedAt.plus({ seconds: 5 }),
    endedAt: startedAt.plus({ minutes: 2 }),
    durationSeconds: 115,
    sipStatus: 200,
    disconnectCause: 'answered_normal',
    hungUpBy: 'caller',
    costCents: null,
    nodeId: 'test-node',
    ...overrides,
  })
}
