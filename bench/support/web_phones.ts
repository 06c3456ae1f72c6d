/*
 * Web phones for bench/b2bua_calls.ts `--kind web`: one sip.js user agent per device over the
 * server's SIP WebSocket (ws://.../sip, with the Origin of the app's page), each call with a werift
 * peer connection as the browser's media, as Chromium offers it (ICE, DTLS-SRTP, opus, PCMU, PCMA,
 * telephone-event). A call: INVITE with the browser's offer, the digest challenge answered by
 * sip.js, the B2BUA's WebRTC leg and the carrier's answer, ACK; it counts as set up once the
 * peer connection is connected (ICE and the DTLS handshake with our relay done). It is held for
 * `pauseMs` and hung up by the phone (BYE). The agents register before the measured runs (a web
 * phone registers when the page opens, not per call).
 */
import type WS from 'ws'
import { Inviter, Registerer, SessionState, UserAgent, type Session } from 'sip.js'
import { WeriftDescriptionHandler, webSocketWithOrigin } from '#tests/support/sipjs_web_phone'
import { within } from '#tests/support/sip_test_stack'

export interface WebPhoneAccount {
  username: string
  password: string
}

export interface WebPhoneRun {
  successful: number
  failed: number
  /** The first few reasons of failed calls. */
  errors: string[]
}

function ended(session: Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.state === SessionState.Terminated) return resolve()
    session.stateChange.addListener((state) => state === SessionState.Terminated && resolve())
  })
}

export class WebPhones {
  readonly #agents: UserAgent[] = []
  readonly #sockets: WS[] = []
  #next = 0

  private constructor(
    private readonly realm: string,
    private readonly callee: string
  ) {}

  /** Connects and registers one agent per account. */
  static async start(options: {
    url: string
    origin: string
    realm: string
    callee: string
    accounts: WebPhoneAccount[]
  }): Promise<WebPhones> {
    const phones = new WebPhones(options.realm, options.callee)
    globalThis.WebSocket = webSocketWithOrigin(options.origin, phones.#sockets) as never
    for (const account of options.accounts) {
      const agent = new UserAgent({
        uri: UserAgent.makeURI(`sip:${account.username}@${options.realm}`),
        transportOptions: { server: options.url },
        authorizationUsername: account.username,
        authorizationPassword: account.password,
        logLevel: 'error',
        sessionDescriptionHandlerFactory: () => new WeriftDescriptionHandler(),
      })
      phones.#agents.push(agent)
      await within(agent.start(), 10_000, 'the SIP WebSocket')
      await within(
        new Promise<void>((resolve, reject) => {
          void new Registerer(agent, { expires: 3600 }).register({
            requestDelegate: {
              onAccept: () => resolve(),
              onReject: (response) =>
                reject(new Error(`REGISTER answered ${response.message.statusCode}`)),
            },
          })
        }),
        10_000,
        'the registration'
      )
    }
    return phones
  }

  /** `calls` calls started at `rate` per second over the agents in turn; resolves when all ended. */
  async run(calls: number, rate: number, pauseMs: number): Promise<WebPhoneRun> {
    const result: WebPhoneRun = { successful: 0, failed: 0, errors: [] }
    const running: Array<Promise<void>> = []
    const started = performance.now()
    for (let index = 0; index < calls; index++) {
      const due = started + (index * 1000) / rate
      const wait = due - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      const agent = this.#agents[this.#next++ % this.#agents.length]
      running.push(
        this.#call(agent, pauseMs).then(
          () => void (result.successful += 1),
          (error: Error) => {
            result.failed += 1
            if (result.errors.length < 5) result.errors.push(error.message)
          }
        )
      )
    }
    await Promise.all(running)
    return result
  }

  async #call(agent: UserAgent, pauseMs: number): Promise<void> {
    const target = UserAgent.makeURI(`sip:${this.callee}@${this.realm}`)!
    const inviter = new Inviter(agent, target)
    let failure: string | undefined
    try {
      await within(
        new Promise<void>((resolve, reject) => {
          inviter.stateChange.addListener((state) => {
            if (state === SessionState.Established) resolve()
            if (state === SessionState.Terminated) reject(new Error(failure ?? 'call ended early'))
          })
          inviter
            .invite({
              requestDelegate: {
                onReject: (response) => {
                  failure = `INVITE answered ${response.message.statusCode}`
                },
              },
            })
            .catch(reject)
        }),
        15_000,
        'the answer'
      )
      const handler = inviter.sessionDescriptionHandler as WeriftDescriptionHandler
      await within(handler.browser.connected(), 10_000, 'ICE and DTLS with the relay')
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    } finally {
      if (inviter.state === SessionState.Established) await inviter.bye().catch(() => {})
      else if (inviter.state !== SessionState.Terminated)
        await inviter.cancel().catch(() => inviter.dispose())
      await within(ended(inviter), 10_000, 'the end of the call').catch(() => inviter.dispose())
    }
  }

  async stop(): Promise<void> {
    for (const agent of this.#agents) await agent.stop().catch(() => {})
    for (const socket of this.#sockets) socket.terminate()
  }
}
