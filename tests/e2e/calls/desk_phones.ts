import app from '@adonisjs/core/services/app'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import SipDeviceService from '#calls/services/sip_device_service'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import { sipSubjectParts, userSubject } from '#calls/signalling/sip_subject'
import { makeCompany, makeUser } from '#tests/support/accounts'
import InternalLineService from '#calls/internal/internal_line_service'
import { startSipp } from '#tests/support/sip_peers'
import { sipUdpPort } from '#tests/e2e/calls/b2bua_races_peers'

/**
 * Colleagues' desk phones for calls inside a company: sipp with digest credentials, the caller on
 * 127.0.0.2, the called phones registered for real from 127.0.0.3, each on its own media port.
 */

export interface Desk {
  user: User
  username: string
  password: string
  deviceId: number
}

export async function desk(company: Company): Promise<Desk> {
  const user = await makeUser('member', company)
  const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
  return { user, username: device.sipUsername, password, deviceId: device.id }
}

/** Registers the colleague's phone from 127.0.0.3 (REGISTER with digest), then answers there. */
export async function registeredDesk(
  phone: Desk,
  scenario: string,
  mediaPort: number,
  options: {
    calls?: number
    keys?: Record<string, string>
    timeoutSeconds?: number
    /** The phone also calls this number (digest for its INVITE; keys `target` and `server`). */
    dials?: string
  } = {}
) {
  const stack = await app.container.make('sip.stack')
  const server = `127.0.0.1:${await sipUdpPort()}`
  const registration = await startSipp({
    scenario: 'uac_register.xml',
    transport: 'u1',
    target: server,
    localIp: '127.0.0.3',
    keys: { domain: configuredRealm() },
    extraArgs: ['-s', phone.username, '-au', phone.username, '-ap', phone.password],
  })
  const registered = await registration.done
  registration.stop()
  if (registered.code !== 0)
    throw new Error(`the phone did not register: ${registration.describe(registered)}`)
  const binding = (await stack.bindingsOfSubject(userSubject(phone.user.id))).find(
    (candidate) => sipSubjectParts(candidate.subject)?.deviceId === phone.deviceId
  )
  if (!binding) throw new Error(`no binding for device ${phone.deviceId}`)
  const sipp = await startSipp({
    scenario,
    transport: 'u1',
    localIp: '127.0.0.3',
    port: binding.source.port,
    timeoutSeconds: options.timeoutSeconds ?? 25,
    traceMessages: true,
    calls: options.calls ?? 1,
    keys: { ...options.keys, ...(options.dials ? { target: options.dials, server } : {}) },
    extraArgs: [
      '-mp',
      String(mediaPort),
      ...(options.dials
        ? ['-s', phone.username, '-au', phone.username, '-ap', phone.password]
        : []),
      ...(options.dials ? ['-auth_uri', `${options.dials}@${server}`] : []),
    ],
  })
  return { sipp, unregister: () => stack.registrar.bindings.remove(binding) }
}

/** The caller's phone (127.0.0.2) dials `callee` with digest; talks for `talkMs`, then BYE. */
export async function dial(
  phone: Desk,
  callee: string,
  scenario: string,
  mediaPort: number,
  talkMs = 1500
) {
  const port = await sipUdpPort()
  return startSipp({
    scenario,
    transport: 'u1',
    target: `127.0.0.1:${port}`,
    localIp: '127.0.0.2',
    timeoutSeconds: 25,
    traceMessages: true,
    keys: { domain: configuredRealm(), callee },
    extraArgs: [
      '-auth_uri',
      `${callee}@127.0.0.1:${port}`,
      '-d',
      String(talkMs),
      '-s',
      phone.username,
      '-au',
      phone.username,
      '-ap',
      phone.password,
      '-mp',
      String(mediaPort),
    ],
  })
}

/**
 * A company with three desk phones on extensions 22 (the caller), 23 (the user a call is for:
 * forwarding, transferring) and 24 (the colleague the call ends up with).
 */
export async function office() {
  const company = await makeCompany('active')
  const admin = await makeUser('admin', company)
  const caller = await desk(company)
  const middle = await desk(company)
  const colleague = await desk(company)
  const lines = new InternalLineService()
  await lines.setExtension(company, caller.user.id, '22', { actor: admin, ip: null })
  await lines.setExtension(company, middle.user.id, '23', { actor: admin, ip: null })
  await lines.setExtension(company, colleague.user.id, '24', { actor: admin, ip: null })
  return { company, caller, middle, colleague }
}
