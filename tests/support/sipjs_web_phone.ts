import WS from 'ws'
import {
  Registerer,
  SessionState,
  UserAgent,
  type Invitation,
  type Session,
  type SessionDescriptionHandler,
} from 'sip.js'
import env from '#start/env'
import { configuredRealm } from '#calls/signalling/registrar_settings'
import InternalLineService from '#calls/internal/internal_line_service'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { freePort } from '#tests/support/sip_peers'
import { desk, registeredDesk, type Desk } from '#tests/e2e/calls/desk_phones'
import { FakeBrowser } from '#tests/e2e/media/media_peers'
import { within } from '#tests/support/sip_test_stack'

/**
 * A web phone short of Chromium for tests and benchmarks in Node: sip.js over the SIP WebSocket,
 * with a werift peer connection as its browser media (ICE, DTLS-SRTP to our relay).
 */

/**
 * The browser's WebSocket for sip.js in Node: ws, with the Origin a browser on our page sends.
 * Every socket is kept, so the caller can end them (an open one would keep the HTTP server from
 * closing).
 */
export function webSocketWithOrigin(origin: string, opened: WS[]) {
  return class extends WS {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { origin })
      opened.push(this)
    }
  }
}

/** sip.js's media: a werift peer connection that offers, or answers an offer, like a browser. */
export class WeriftDescriptionHandler implements SessionDescriptionHandler {
  readonly browser = new FakeBrowser()
  #remoteOffer: string | undefined
  #offered = false

  /** `rewrite`: changes this browser's own SDP before it goes out (a faulty browser). */
  constructor(private readonly rewrite: (sdp: string) => string = (sdp) => sdp) {}

  close(): void {
    void this.browser.close()
  }

  async getDescription() {
    if (this.#remoteOffer) {
      const answer = await this.browser.answer(this.#remoteOffer)
      this.#remoteOffer = undefined
      return { body: this.rewrite(answer), contentType: 'application/sdp' }
    }
    this.#offered = true
    return { body: this.rewrite(await this.browser.offer()), contentType: 'application/sdp' }
  }

  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp'
  }

  async setDescription(sdp: string): Promise<void> {
    if (this.#offered) {
      this.#offered = false
      await this.browser.acceptAnswer(sdp)
    } else {
      this.#remoteOffer = sdp
    }
  }

  sendDtmf(): boolean {
    return false
  }
}

/** A sip.js user agent registered over the SIP WebSocket with werift media, and what it saw. */
export interface WebPhone {
  agent: UserAgent
  handlers: WeriftDescriptionHandler[]
  invitations: Invitation[]
  /** Bodies of the INFO requests this phone received (key exchange parts). */
  infos: string[]
  /** The X-FluffyCall-E2EE header of each re-INVITE this phone received. */
  reinvites: Array<string | undefined>
}

/**
 * Web phones of one test: sip.js gets a WebSocket with our page's Origin meanwhile; the cleanup
 * stops the phones' media and user agents and closes every socket.
 */
export function webPhones(cleanup: (fn: () => Promise<void>) => void) {
  const original = globalThis.WebSocket
  const sockets: WS[] = []
  globalThis.WebSocket = webSocketWithOrigin(new URL(env.get('APP_URL')).origin, sockets) as never
  const started: WebPhone[] = []
  cleanup(async () => {
    for (const phone of started) {
      for (const handler of phone.handlers) handler.close()
      await within(phone.agent.stop(), 3000, 'sip.js stop').catch(() => {})
    }
    globalThis.WebSocket = original
    for (const socket of sockets) socket.terminate()
  })
  /** Registers `phone`'s credentials; `handler` makes its media (a faulty browser's, say). */
  return (phone: Desk, options: { handler?: () => WeriftDescriptionHandler } = {}) =>
    webPhone(phone, started, options.handler ?? (() => new WeriftDescriptionHandler()))
}

async function webPhone(
  phone: Desk,
  started: WebPhone[],
  handler: () => WeriftDescriptionHandler
): Promise<WebPhone> {
  const state: WebPhone = {
    agent: undefined as never,
    handlers: [],
    invitations: [],
    infos: [],
    reinvites: [],
  }
  state.agent = new UserAgent({
    uri: UserAgent.makeURI(`sip:${phone.username}@${configuredRealm()}`),
    transportOptions: { server: `ws://127.0.0.1:${env.get('PORT')}/sip` },
    authorizationUsername: phone.username,
    authorizationPassword: phone.password,
    logLevel: 'error',
    sessionDescriptionHandlerFactory: () => {
      const made = handler()
      state.handlers.push(made)
      return made
    },
    delegate: {
      onInvite: (invitation) => {
        state.invitations.push(invitation)
        listen(state, invitation)
      },
    },
  })
  started.push(state)
  await within(state.agent.start(), 5000, 'WebSocket connect')
  await within(
    new Promise<void>((resolve, reject) => {
      void new Registerer(state.agent, { expires: 300 }).register({
        requestDelegate: {
          onAccept: () => resolve(),
          onReject: (response) => reject(new Error(`REGISTER ${response.message.statusCode}`)),
        },
      })
    }),
    5000,
    'registered'
  )
  return state
}

/** Keeps what `session` receives in `phone` (INFO bodies, re-INVITEs' E2EE header). */
export function listen(phone: WebPhone, session: Session) {
  session.delegate = {
    onInfo: (info) => {
      phone.infos.push(info.request.body)
      void info.accept()
    },
    onInvite: (request) => phone.reinvites.push(request.getHeader('X-FluffyCall-E2EE')),
    // The transferor learns how its REFER went; nothing to do with it here.
    onNotify: (notification) => void notification.accept(),
  }
}

export function established(session: Session): Promise<void> {
  return new Promise((resolve, reject) => {
    if (session.state === SessionState.Established) return resolve()
    session.stateChange.addListener((state) => {
      if (state === SessionState.Established) resolve()
      else if (state === SessionState.Terminated) reject(new Error('session ended'))
    })
  })
}

/**
 * A company with Alice on a web phone and Carol on a sipp desk phone (registered from 127.0.0.3,
 * answering internal calls with internal_device_answer.xml) at extensions `alice` and `carol`.
 */
export async function webPhoneAndDesk(
  cleanup: (fn: () => Promise<void>) => void,
  extensions: { alice: string; carol: string },
  options: { handler?: () => WeriftDescriptionHandler } = {}
) {
  const company = await makeCompany('active')
  const admin = await makeUser('admin', company)
  const [aliceDesk, carolDesk] = [await desk(company), await desk(company)]
  const lines = new InternalLineService()
  await lines.setExtension(company, aliceDesk.user.id, extensions.alice, { actor: admin, ip: null })
  await lines.setExtension(company, carolDesk.user.id, extensions.carol, { actor: admin, ip: null })
  const carol = await registeredDesk(
    carolDesk,
    'internal_device_answer.xml',
    await freePort('udp', '127.0.0.3')
  )
  cleanup(async () => {
    carol.sipp.stop()
    await carol.unregister()
  })
  const alice = await webPhones(cleanup)(aliceDesk, options)
  return { alice, carol }
}
