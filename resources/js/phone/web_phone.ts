import {
  Invitation,
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type Core,
  type Session,
  type SessionDescriptionHandler,
  type SessionReferOptions,
  type Web,
} from 'sip.js'
import type { AudioDevices } from './audio_devices.js'
import { assessQuality, readSample, type CallQuality, type StatsSample } from './call_quality.js'
import { phoneCodecModifier, phoneSessionDescriptionHandlerFactory } from './phone_codecs.js'
import { CallEncryption, type EncryptionStatus } from './e2ee/call_encryption.js'
import { E2EE_HEADER, parseRoleHeader } from './e2ee/key_exchange.js'
import { RINGBACK, RINGTONE, type TonePlayer } from './tone_player.js'
import { serverEndCause } from './outcome_reason.js'

/** What POST /app/phone/credential returns (WebPhoneCredentialService.issue). */
export interface WebPhoneLogin {
  username: string
  password: string
  realm: string
  aor: string
  expiresAt: string
  wsPath: string
  displayName: string
  callerIds: string[]
  defaultCallerId: string | null
  clirDefault: boolean
  echoNumber: string
  emergencyOnly: boolean
  /** The user's internal extension (chosen by the company's admins), null without one. */
  extension: string | null
  doNotDisturb: boolean
}

/** The login without its password: what the page shows and what other tabs may hear. */
export type PublicLogin = Omit<WebPhoneLogin, 'password'>

/** The phone's registration with our SIP server. */
export type Registration =
  'idle' | 'connecting' | 'registered' | 'unregistered' | 'disconnected' | 'logged-out'
/** A call in progress. */
export type CallState = 'calling' | 'ringing' | 'incoming' | 'in-call' | 'on-hold'
/** How the last call ended, shown until the next one. */
export type CallOutcome =
  | 'ended'
  | 'busy'
  | 'unreachable'
  | 'refused'
  | 'failed'
  | 'connection-lost'
  | 'no-microphone'
  /** The server ended the connected call (its cause in lastReason; see serverEndCause). */
  | 'cut-off'

export interface PhoneSnapshot {
  registration: Registration
  call: CallState | null
  outcome: CallOutcome | null
  /** SIP status and reason phrase of the last failed call (486 Busy Here, 403 from the server ...). */
  lastStatus: number | null
  lastReason: string | null
  muted: boolean
  held: boolean
  /** Date.now() when the call was answered; the call timer counts from here. */
  answeredAt: number | null
  direction: 'outbound' | 'inbound' | null
  remote: { number: string | null; displayName: string | null } | null
  /** Call waiting: a second caller knocking during the call (the server decides whether it may). */
  waiting?: { number: string | null; displayName: string | null } | null
  /** The other call, on hold, while the user talks on this one. */
  parked?: { number: string | null; displayName: string | null } | null
  /** A blind transfer of this call: asked, the new party answered, or it failed (lastStatus/lastReason say why). */
  transfer?: 'pending' | 'done' | 'failed' | null
  /**
   * A consultation (attended transfer): the party waits on hold while the user calls a colleague.
   * 'calling' until the colleague answers, 'connected' while both calls run (the transfer can be
   * completed), 'ended' when the colleague's call is over and the party still waits.
   */
  consultation?: 'calling' | 'connected' | 'ended' | null
  /** How the running call is encrypted: end to end between two browsers, or transport only. */
  encryption?: EncryptionStatus | null
}

/** The party of an answered call and the consultation call placed for it (null until dialled). */
interface Consultation {
  party: Session
  call: Session | null
}

/** A call put aside on hold while the user talks on another one. */
interface ParkedCall {
  session: Session
  direction: 'outbound' | 'inbound' | null
  remote: PhoneSnapshot['remote']
  answeredAt: number | null
}

export interface PhoneListener {
  changed(snapshot: PhoneSnapshot): void
  login(login: PublicLogin): void
  remoteStream(stream: MediaStream): void
  quality(quality: CallQuality | null): void
}

export interface PlaceCallOptions {
  /** Sent as X-FluffyCall-Caller-Id; the server checks it against the company's numbers. */
  callerId: string | null
  /** CLIR for this call: `Privacy: id`; `Privacy: none` asks to show the number despite a CLIR default. */
  withhold: boolean
}

/** What the page can ask of a phone: WebPhone itself, or a proxy to the tab that holds it. */
export interface PhoneControls {
  call(target: string, options: PlaceCallOptions): Promise<void>
  hangUp(): Promise<void>
  accept(): Promise<void>
  reject(): Promise<void>
  setMuted(muted: boolean): void
  setHeld(held: boolean): Promise<void>
  sendDtmf(tone: string): boolean
  acceptWaiting(): Promise<void>
  rejectWaiting(): Promise<void>
  switchCalls(): Promise<void>
  transfer(target: string): Promise<void>
  consult(target: string, options: PlaceCallOptions): Promise<void>
  connectConsultation(): Promise<void>
  cancelConsultation(): Promise<void>
  readonly peerConnection: RTCPeerConnection | undefined
}

export interface WebPhoneOptions {
  credentialUrl: string
  csrfToken: string
  devices: AudioDevices
  tones: TonePlayer
  listener: PhoneListener
  /** The page was served by our test environment: the encryption's test hooks may be used. */
  testHooks?: boolean
}

/** Seconds between REGISTER refreshes (the registrar allows 60 to 3600). */
const REGISTER_EXPIRES = 300
const STATS_INTERVAL_MS = 2000
const RECONNECT_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000]
/** A login is renewed this long before it expires (when no call is running). */
const RENEW_BEFORE_EXPIRY_MS = 10 * 60 * 1000

/**
 * The party named by a P-Asserted-Identity (RFC 3325) the server sends after a transfer:
 * `"Name" <sip:number@host>`; null when it cannot be read.
 */
export function assertedParty(value: string): PhoneSnapshot['remote'] {
  const uri = /<sips?:([^@>;]+)@([^>;]+)[^>]*>/.exec(value)
  if (!uri) return null
  const name = /^\s*"((?:[^"\\]|\\.)*)"/.exec(value)
  const anonymous = uri[1] === 'anonymous' || uri[2] === 'anonymous.invalid'
  return {
    number: anonymous ? null : decodeURIComponent(uri[1]),
    displayName: name ? name[1] || null : null,
  }
}

/** SIP final responses and how the page names them. */
function outcomeOf(status: number): CallOutcome {
  if (status === 486 || status === 600) return 'busy'
  if ([404, 408, 410, 480, 503, 604].includes(status)) return 'unreachable'
  if (status === 487) return 'ended'
  return 'refused'
}

class LoggedOut extends Error {}

/**
 * The web phone: one sip.js UserAgent over our SIP WebSocket, registered with a short-lived login
 * from the server, and at most one call at a time. It reports plain snapshots; the page (ui.ts)
 * draws them.
 */
export class WebPhone implements PhoneControls {
  #options: WebPhoneOptions
  #login: WebPhoneLogin | null = null
  #userAgent: UserAgent | null = null
  #registerer: Registerer | null = null
  #session: Session | null = null
  #waiting: Invitation | null = null
  #parked: ParkedCall | null = null
  #consultation: Consultation | null = null
  #snapshot: PhoneSnapshot = {
    registration: 'idle',
    call: null,
    outcome: null,
    lastStatus: null,
    lastReason: null,
    muted: false,
    held: false,
    answeredAt: null,
    direction: null,
    remote: null,
  }
  #reconnectAttempt = 0
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null
  #renewTimer: ReturnType<typeof setTimeout> | null = null
  #statsTimer: ReturnType<typeof setInterval> | null = null
  #lastSample: StatsSample | null = null
  #stopped = false
  /** Each call's end-to-end encryption (its transforms are attached when its media starts). */
  #encryptions = new WeakMap<Session, CallEncryption>()

  constructor(options: WebPhoneOptions) {
    this.#options = options
  }

  get snapshot(): PhoneSnapshot {
    return { ...this.#snapshot }
  }

  get login(): PublicLogin | null {
    if (!this.#login) return null
    const { password: _password, ...rest } = this.#login
    return rest
  }

  get session(): Session | null {
    return this.#session
  }

  get userAgent(): UserAgent | null {
    return this.#userAgent
  }

  /** The running call's peer connection (tests read getStats() from it). */
  get peerConnection(): RTCPeerConnection | undefined {
    return (this.#session?.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined)
      ?.peerConnection
  }

  /** Logs in and registers; reconnects by itself when the connection drops. */
  async start(): Promise<void> {
    this.#stopped = false
    await this.#connect()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#clearTimers()
    await this.#teardownUserAgent(true)
    this.#update({ registration: 'idle' })
  }

  async call(target: string, options: PlaceCallOptions): Promise<void> {
    const userAgent = this.#userAgent
    const login = this.#login
    if (!userAgent || !login || this.#session || this.#snapshot.registration !== 'registered')
      return
    const uri = UserAgent.makeURI(`sip:${target}@${login.realm}`)
    if (!uri) throw new Error(`not a SIP target: ${target}`)
    const extraHeaders = [options.withhold ? 'Privacy: id' : 'Privacy: none']
    if (options.callerId) extraHeaders.push(`X-FluffyCall-Caller-Id: ${options.callerId}`)
    const inviter = new Inviter(userAgent, uri, {
      extraHeaders,
      earlyMedia: true,
      sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
      sessionDescriptionHandlerModifiers: [phoneCodecModifier],
    })
    this.#track(inviter, 'outbound', { number: target, displayName: null })
    // With the party of a consultation waiting, the next call is the consultation call.
    const consultation = this.#consultation
    if (consultation && this.#parked?.session === consultation.party) {
      consultation.call = inviter
      inviter.stateChange.addListener((state) => {
        if (state !== SessionState.Terminated || consultation !== this.#consultation) return
        // Ended while the user talks with the party again (after a switch): nothing to connect.
        if (this.#parked?.session !== consultation.party) this.#consultation = null
        this.#update({})
      })
    }
    this.#update({ call: 'calling' })
    // A consultation call given up for the party (Back) no longer speaks for the phone.
    const mine = () => !this.#session || this.#session === inviter
    try {
      await inviter.invite({
        requestDelegate: {
          // The answer says whether the callee is a browser too (and this side starts the keys).
          onAccept: (response) =>
            this.#encryptions
              .get(inviter)
              ?.assign(parseRoleHeader(response.message.getHeader(E2EE_HEADER)), { initial: true }),
          onProgress: (response) => {
            if (mine()) this.#progress(response)
          },
          onReject: (response) => {
            if (mine()) this.#rejected(response)
          },
        },
      })
    } catch (error) {
      if (mine()) this.#failed(error)
      else inviter.dispose().catch(() => {})
    }
  }

  /** Cancels, declines or ends the call, whatever state it is in. */
  async hangUp(): Promise<void> {
    const session = this.#session
    if (!session) return
    await this.#end(session)
  }

  async #end(session: Session): Promise<void> {
    this.#options.tones.stop()
    try {
      if (session.state === SessionState.Established) {
        await session.bye()
      } else if (session instanceof Inviter) {
        await session.cancel()
      } else if (session instanceof Invitation) {
        await session.reject({ statusCode: 486 })
      }
    } catch {
      session.dispose().catch(() => {})
    }
  }

  async accept(): Promise<void> {
    const session = this.#session
    if (!(session instanceof Invitation) || session.state !== SessionState.Initial) return
    this.#options.tones.stop()
    try {
      await session.accept({
        sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
      })
    } catch (error) {
      this.#failed(error)
    }
  }

  /** Declines a ringing call with 486: the caller hears busy, the user's other phones keep ringing. */
  async reject(): Promise<void> {
    const session = this.#session
    if (!(session instanceof Invitation) || session.state !== SessionState.Initial) return
    this.#options.tones.stop()
    await session.reject({ statusCode: 486 }).catch(() => {})
  }

  setMuted(muted: boolean): void {
    this.#update({ muted })
    this.#applySenderTracks()
  }

  /** Hold and resume by re-INVITE; sip.js's `hold` option makes the offer sendonly. */
  async setHeld(held: boolean): Promise<void> {
    const session = this.#session
    if (!session || session.state !== SessionState.Established || this.#snapshot.held === held)
      return
    session.sessionDescriptionHandlerOptionsReInvite = {
      ...(session.sessionDescriptionHandlerOptionsReInvite as Web.SessionDescriptionHandlerOptions),
      hold: held,
    } as Web.SessionDescriptionHandlerOptions
    await session.invite({
      sessionDescriptionHandlerModifiers: [phoneCodecModifier],
      requestDelegate: {
        onAccept: () => {
          // A call parked meanwhile (call waiting) only keeps its microphone off.
          if (session !== this.#session) {
            const handler = session.sessionDescriptionHandler as Web.SessionDescriptionHandler
            handler?.enableSenderTracks(!held)
            return
          }
          this.#update({ held, call: held ? 'on-hold' : 'in-call' })
          this.#applySenderTracks()
        },
        onReject: () => this.#update({ held: this.#snapshot.held }),
      },
    })
  }

  /**
   * Blind transfer (REFER with Referred-By): the server rings `target` (an extension or a number)
   * and ends this call once the new party answers; its NOTIFYs (message/sipfrag) tell how it goes.
   * A refusal or a failed attempt leaves the call as it was.
   */
  async transfer(target: string): Promise<void> {
    const session = this.#session
    const login = this.#login
    if (!session || !login || session.state !== SessionState.Established) return
    const uri = UserAgent.makeURI(`sip:${target}@${login.realm}`)
    if (!uri) throw new Error(`not a SIP target: ${target}`)
    this.#update({ transfer: 'pending', lastStatus: null, lastReason: null })
    await session
      .refer(
        uri,
        this.#referProgress(() => session === this.#session)
      )
      .catch(() => this.#transferFailed(() => session === this.#session, 500, ''))
  }

  /**
   * Attended transfer, step one: the answered call goes on hold and waits (parked) while the user
   * calls `target`. From a consultation whose call is over, this calls the next colleague.
   */
  async consult(target: string, options: PlaceCallOptions): Promise<void> {
    if (!this.#consultation) {
      const party = this.#session
      if (!party || party.state !== SessionState.Established || this.#parked || this.#waiting)
        return
      const consultation: Consultation = { party, call: null }
      this.#consultation = consultation
      party.stateChange.addListener((state) => {
        if (state !== SessionState.Terminated || consultation !== this.#consultation) return
        this.#consultation = null
        this.#update({})
      })
      await this.#park()
    } else if (this.#session) {
      return
    }
    await this.call(target, options)
  }

  /**
   * Attended transfer, step two: the party's call refers the party to the consultation call
   * (REFER with Replaces naming its dialog). The server joins the two and ends both of ours;
   * its NOTIFYs tell how it goes, a refusal leaves both calls as they are.
   */
  async connectConsultation(): Promise<void> {
    const consultation = this.#consultation
    const { party, call } = consultation ?? {}
    if (
      !party ||
      !call ||
      party.state !== SessionState.Established ||
      call.state !== SessionState.Established
    )
      return
    const current = () => consultation === this.#consultation
    this.#update({ transfer: 'pending', lastStatus: null, lastReason: null })
    await party
      .refer(call, this.#referProgress(current))
      .catch(() => this.#transferFailed(current, 500, ''))
  }

  /** Back to the party: the consultation call ends (if it still runs), the party is taken off hold. */
  async cancelConsultation(): Promise<void> {
    const consultation = this.#consultation
    if (!consultation) return
    this.#consultation = null
    this.#update({ transfer: null })
    const { party, call } = consultation
    const parked = this.#parked
    if (parked?.session === party) {
      // The party becomes the running call first: the consultation call's end then leaves it be.
      this.#parked = null
      if (call && call.state !== SessionState.Terminated) void this.#end(call)
      await this.#resume(parked)
      return
    }
    if (party !== this.#session) return
    // After a switch the consultation call is the parked one.
    if (parked?.session === call) {
      this.#parked = null
      this.#update({ parked: null })
    }
    if (call && call.state !== SessionState.Terminated) void this.#end(call)
    await this.setHeld(false)
  }

  /** What a REFER reports: the server's answer, then NOTIFYs with the new party's status line. */
  #referProgress(current: () => boolean): SessionReferOptions {
    return {
      requestDelegate: {
        onReject: (response) =>
          this.#transferFailed(
            current,
            response.message.statusCode ?? 500,
            response.message.reasonPhrase ?? ''
          ),
      },
      onNotify: (notification) => {
        notification.accept()
        const line = /^SIP\/2\.0 (\d{3}) ?([^\r\n]*)/m.exec(notification.request.body)
        if (!line) return
        const status = Number(line[1])
        if (status >= 300) this.#transferFailed(current, status, line[2])
        else if (status >= 200 && current()) this.#update({ transfer: 'done' })
      },
    }
  }

  #transferFailed(current: () => boolean, status: number, reason: string): void {
    if (current()) this.#update({ transfer: 'failed', lastStatus: status, lastReason: reason })
  }

  /** RFC 4733 events through the RTCDTMFSender of the call's audio sender. */
  sendDtmf(tone: string): boolean {
    const handler = this.#session?.sessionDescriptionHandler
    if (!handler || this.#session?.state !== SessionState.Established) return false
    return handler.sendDtmf(tone, { duration: 100, interToneGap: 70 })
  }

  async #connect(): Promise<void> {
    this.#update({ registration: 'connecting' })
    let login: WebPhoneLogin
    try {
      login = await this.#fetchLogin()
    } catch (error) {
      if (error instanceof LoggedOut) {
        this.#update({ registration: 'logged-out' })
        return
      }
      this.#scheduleReconnect()
      return
    }
    this.#login = login
    this.#options.listener.login(this.login!)
    const secure = location.protocol === 'https:'
    const userAgent = new UserAgent({
      uri: UserAgent.makeURI(login.aor),
      displayName: login.displayName,
      authorizationUsername: login.username,
      authorizationPassword: login.password,
      transportOptions: { server: `${secure ? 'wss' : 'ws'}://${location.host}${login.wsPath}` },
      sessionDescriptionHandlerFactory: phoneSessionDescriptionHandlerFactory(
        this.#options.devices.mediaStreamFactory(),
        (session, peerConnection) => this.#encryptions.get(session)?.attach(peerConnection)
      ),
      userAgentString: 'FluffyCall web phone',
      // Reconnecting needs a fresh login (the old one may be revoked): done here, not by sip.js.
      reconnectionAttempts: 0,
      logLevel: 'warn',
      delegate: {
        onInvite: (invitation) => this.#incoming(invitation),
        onDisconnect: (error) => {
          if (error && userAgent === this.#userAgent) this.#connectionLost()
        },
      },
    })
    this.#userAgent = userAgent
    try {
      await userAgent.start()
    } catch {
      if (userAgent === this.#userAgent) this.#connectionLost()
      return
    }
    const registerer = new Registerer(userAgent, { expires: REGISTER_EXPIRES })
    this.#registerer = registerer
    registerer.stateChange.addListener((state) => {
      if (registerer !== this.#registerer) return
      if (state === RegistererState.Registered) {
        this.#reconnectAttempt = 0
        this.#update({ registration: 'registered' })
      } else if (
        state === RegistererState.Unregistered &&
        this.#snapshot.registration === 'registered'
      ) {
        this.#update({ registration: 'unregistered' })
      }
    })
    await registerer
      .register({
        requestDelegate: {
          onReject: (response) => {
            this.#update({
              registration: 'unregistered',
              lastStatus: response.message.statusCode ?? null,
              lastReason: response.message.reasonPhrase,
            })
          },
        },
      })
      .catch(() => this.#update({ registration: 'unregistered' }))
    this.#scheduleRenewal(login)
  }

  async #fetchLogin(): Promise<WebPhoneLogin> {
    const response = await fetch(this.#options.credentialUrl, {
      method: 'POST',
      credentials: 'same-origin',
      redirect: 'manual',
      headers: { 'Accept': 'application/json', 'X-CSRF-TOKEN': this.#options.csrfToken },
    })
    // The session is gone (redirect to the login page) or no longer allowed to phone.
    if (response.type === 'opaqueredirect' || response.status === 401 || response.status === 403) {
      throw new LoggedOut()
    }
    if (!response.ok) throw new Error(`credential endpoint answered ${response.status}`)
    return (await response.json()) as WebPhoneLogin
  }

  #connectionLost(): void {
    if (this.#stopped) return
    const userAgent = this.#userAgent
    const session = this.#session
    if (userAgent && session?.state === SessionState.Established) {
      void this.#resumeCall(userAgent, session)
      return
    }
    this.#endCallLocally()
    void this.#teardownUserAgent(false)
    this.#update({ registration: 'disconnected' })
    this.#scheduleReconnect()
  }

  /**
   * The socket dropped during a call: the server keeps the call for a few seconds
   * (WEBPHONE_RECONNECT_GRACE_SECONDS) and the audio runs on beside the socket. Reconnect at once,
   * register again and send an in-dialog request, which moves the call to the new socket;
   * otherwise the call is lost.
   */
  async #resumeCall(userAgent: UserAgent, session: Session): Promise<void> {
    this.#update({ registration: 'disconnected' })
    let reconnected = false
    try {
      await userAgent.reconnect()
      const registerer = this.#registerer
      if (!registerer) throw new Error('not registered')
      // The registerer still counts itself registered, so its state does not change: listen here.
      await new Promise<void>((resolve, reject) => {
        registerer
          .register({
            requestDelegate: {
              onAccept: () => resolve(),
              onReject: () => reject(new Error('REGISTER refused')),
            },
          })
          .catch(reject)
      })
      reconnected = true
      this.#update({ registration: 'registered' })
      // Any in-dialog request over the new socket moves the call there; an empty INFO leaves the
      // media alone. 481: the server ended the call meanwhile (its socket was closed, not dropped).
      const moved = await new Promise<boolean>((resolve, reject) => {
        session
          .info({
            requestDelegate: { onAccept: () => resolve(true), onReject: () => resolve(false) },
          })
          .catch(reject)
      })
      if (!moved) this.#endCallLocally()
    } catch {
      if (userAgent !== this.#userAgent || this.#stopped) return
      this.#endCallLocally()
      if (reconnected) return
      void this.#teardownUserAgent(false)
      this.#update({ registration: 'disconnected' })
      this.#scheduleReconnect()
    }
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnectTimer) return
    this.#update({ registration: 'disconnected' })
    const delay =
      RECONNECT_DELAYS_MS[Math.min(this.#reconnectAttempt, RECONNECT_DELAYS_MS.length - 1)]
    this.#reconnectAttempt += 1
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null
      void this.#connect()
    }, delay)
  }

  /** A fresh login before this one expires; postponed while a call runs. */
  #scheduleRenewal(login: WebPhoneLogin): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer)
    const due = Date.parse(login.expiresAt) - RENEW_BEFORE_EXPIRY_MS - Date.now()
    this.#renewTimer = setTimeout(() => this.#renew(), Math.max(60_000, Math.min(due, 2 ** 31 - 1)))
  }

  async #renew(): Promise<void> {
    this.#renewTimer = null
    if (this.#stopped) return
    if (this.#session || this.#parked) {
      this.#renewTimer = setTimeout(() => this.#renew(), 60_000)
      return
    }
    await this.#teardownUserAgent(true)
    await this.#connect()
  }

  async #teardownUserAgent(graceful: boolean): Promise<void> {
    const userAgent = this.#userAgent
    const registerer = this.#registerer
    this.#userAgent = null
    this.#registerer = null
    if (!userAgent) return
    if (graceful && registerer?.state === RegistererState.Registered) {
      await registerer.unregister().catch(() => {})
    }
    await userAgent.stop().catch(() => {})
  }

  #incoming(invitation: Invitation): void {
    // A party waiting on hold after a consultation call counts as a call: busy for a new one.
    if (this.#session || this.#parked) {
      // Call waiting: one second call may knock while the user talks (and none is parked yet).
      if (this.#session?.state === SessionState.Established && !this.#waiting && !this.#parked) {
        this.#knock(invitation)
        return
      }
      void invitation.reject({ statusCode: 486 }).catch(() => {})
      return
    }
    const identity = invitation.remoteIdentity
    const anonymous = identity.uri.user === 'anonymous' || identity.uri.host === 'anonymous.invalid'
    this.#track(invitation, 'inbound', {
      number: anonymous ? null : (identity.uri.user ?? null),
      displayName: identity.displayName || null,
    })
    this.#update({ call: 'incoming' })
    this.#options.tones.play(RINGTONE)
  }

  #remoteOf(invitation: Invitation): PhoneSnapshot['remote'] {
    const identity = invitation.remoteIdentity
    const anonymous = identity.uri.user === 'anonymous' || identity.uri.host === 'anonymous.invalid'
    return {
      number: anonymous ? null : (identity.uri.user ?? null),
      displayName: identity.displayName || null,
    }
  }

  /** A second call knocks: shown beside the running call until taken, declined or cancelled. */
  #knock(invitation: Invitation): void {
    this.#waiting = invitation
    invitation.stateChange.addListener((state) => {
      if (state === SessionState.Terminated && this.#waiting === invitation) {
        this.#waiting = null
        this.#update({ waiting: null })
      }
    })
    this.#update({ waiting: this.#remoteOf(invitation) })
  }

  /** Takes the knocking call; the running one goes on hold and is parked. */
  async acceptWaiting(): Promise<void> {
    const waiting = this.#waiting
    if (!waiting || waiting.state !== SessionState.Initial || !this.#session) return
    await this.#park()
    this.#waiting = null
    this.#track(waiting, 'inbound', this.#remoteOf(waiting))
    this.#update({ waiting: null })
    await this.accept()
  }

  async rejectWaiting(): Promise<void> {
    const waiting = this.#waiting
    if (!waiting) return
    this.#waiting = null
    this.#update({ waiting: null })
    await waiting.reject({ statusCode: 486 }).catch(() => {})
  }

  /** Swaps the running call and the parked one: this one goes on hold, the other resumes. */
  async switchCalls(): Promise<void> {
    const parked = this.#parked
    if (!parked || !this.#session || this.#session.state !== SessionState.Established) return
    this.#parked = null
    await this.#park()
    await this.#resume(parked)
  }

  /** Holds the running call and sets it aside; its end while parked clears it. */
  async #park(): Promise<void> {
    const session = this.#session
    if (!session) return
    await this.setHeld(true)
    const parked: ParkedCall = {
      session,
      direction: this.#snapshot.direction,
      remote: this.#snapshot.remote,
      answeredAt: this.#snapshot.answeredAt,
    }
    this.#parked = parked
    this.#session = null
    this.#stopStats()
    session.stateChange.addListener((state) => {
      if (state === SessionState.Terminated && this.#parked === parked) {
        this.#parked = null
        this.#update({ parked: null })
      }
    })
    this.#update({ parked: parked.remote })
  }

  /** Makes a parked call the running one again and takes it off hold. */
  async #resume(parked: ParkedCall): Promise<void> {
    const other = this.#parked
    this.#session = parked.session
    this.#update({
      direction: parked.direction,
      remote: parked.remote,
      answeredAt: parked.answeredAt,
      held: true,
      call: 'on-hold',
      parked: other?.remote ?? null,
    })
    const handler = parked.session.sessionDescriptionHandler as Web.SessionDescriptionHandler
    if (handler) this.#options.listener.remoteStream(handler.remoteMediaStream)
    this.#startStats()
    await this.setHeld(false)
  }

  /** Follows a session from creation to its end. */
  #track(
    session: Session,
    direction: 'outbound' | 'inbound',
    remote: PhoneSnapshot['remote']
  ): void {
    this.#session = session
    this.#encrypt(session, direction)
    this.#update({
      direction,
      remote,
      outcome: null,
      lastStatus: null,
      lastReason: null,
      muted: false,
      held: false,
      answeredAt: null,
      transfer: null,
    })
    session.delegate = {
      onSessionDescriptionHandler: (handler: SessionDescriptionHandler) => {
        const media = handler as Web.SessionDescriptionHandler
        this.#options.listener.remoteStream(media.remoteMediaStream)
      },
      // The server says why it ended the call (RFC 3326): shown in words once it is over
      onBye: (bye) => {
        const cause = serverEndCause(bye.request.getHeader('Reason'))
        if (cause && session === this.#session)
          this.#update({ outcome: 'cut-off', lastStatus: null, lastReason: cause })
        void bye.accept().catch(() => {})
      },
      // After a transfer the server's re-INVITE says whom the call is with now, and whether
      // the new pairing is end-to-end encrypted (a new epoch of keys) or not.
      onInvite: (request) => {
        this.#encryptions
          .get(session)
          ?.assign(parseRoleHeader(request.getHeader(E2EE_HEADER)), { initial: false })
        const identity = request.getHeader('P-Asserted-Identity')
        const party = identity ? assertedParty(identity) : null
        if (!party) return
        if (session === this.#session) this.#update({ remote: party })
        else if (this.#parked?.session === session) {
          this.#parked.remote = party
          this.#update({ parked: party })
        }
      },
      onInfo: (info) => {
        if (!this.#encryptions.get(session)?.onInfo(info)) void info.accept().catch(() => {})
      },
    }
    session.stateChange.addListener((state) => {
      if (session !== this.#session) return
      if (state === SessionState.Established) {
        this.#options.tones.stop()
        this.#update({ call: 'in-call', answeredAt: Date.now() })
        this.#startStats()
      } else if (state === SessionState.Terminated) {
        this.#finish(session)
      }
    })
  }

  /**
   * The call's end-to-end encryption: a call this phone places waits for the answer (and sends
   * nothing before it); an incoming one knows from its INVITE whether the caller is a browser.
   */
  #encrypt(session: Session, direction: 'outbound' | 'inbound'): void {
    if (this.#encryptions.has(session)) return
    const assignment =
      session instanceof Invitation ? parseRoleHeader(session.request.getHeader(E2EE_HEADER)) : null
    const initial =
      direction === 'outbound'
        ? 'undecided'
        : assignment && assignment.role !== 'none'
          ? 'drop'
          : 'passthrough'
    const encryption = new CallEncryption(
      session,
      initial,
      () => {
        if (session === this.#session) this.#update({})
      },
      this.#options.testHooks
    )
    this.#encryptions.set(session, encryption)
    if (session instanceof Invitation) encryption.assign(assignment, { initial: true })
    session.stateChange.addListener((state) => {
      if (state === SessionState.Established) encryption.established()
      else if (state === SessionState.Terminated) encryption.close()
    })
  }

  /** Test hooks of the running call's encryption (main.ts offers them in the test environment only). */
  get encryptionTestHooks() {
    const session = this.#session
    if (!this.#options.testHooks || !session) return null
    return this.#encryptions.get(session)?.testHooks ?? null
  }

  #progress(response: Core.IncomingResponse): void {
    const { statusCode, body } = response.message
    if (statusCode === 180 || statusCode === 183) this.#update({ call: 'ringing' })
    // Early media (183 with SDP) brings the real ringback; otherwise we play our own.
    if (statusCode === 180 && !body) this.#options.tones.play(RINGBACK)
    if (body) this.#options.tones.stop()
  }

  #rejected(response: Core.IncomingResponse): void {
    const statusCode = response.message.statusCode ?? 0
    const reasonPhrase = response.message.reasonPhrase ?? null
    this.#update({
      outcome: outcomeOf(statusCode),
      lastStatus: statusCode,
      lastReason: reasonPhrase,
    })
  }

  #failed(error: unknown): void {
    const name = error instanceof Error ? error.name : ''
    const noMicrophone =
      name === 'NotAllowedError' || name === 'NotFoundError' || name === 'NotReadableError'
    this.#update({ outcome: noMicrophone ? 'no-microphone' : 'failed' })
    const session = this.#session
    if (session && session.state !== SessionState.Terminated) session.dispose().catch(() => {})
  }

  #finish(session: Session): void {
    this.#options.tones.stop()
    this.#stopStats()
    const handler = session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined
    for (const sender of handler?.peerConnection?.getSenders() ?? []) sender.track?.stop()
    this.#session = null
    this.#update({
      call: null,
      outcome: this.#snapshot.outcome ?? 'ended',
      muted: false,
      held: false,
      answeredAt: null,
    })
    this.#options.listener.quality(null)
    // The parked call comes back, still on hold: the user resumes it. A consultation's party
    // keeps waiting: the user goes back to it or calls the next colleague.
    const parked = this.#parked
    if (
      parked &&
      parked.session.state === SessionState.Established &&
      parked.session !== this.#consultation?.party
    ) {
      this.#parked = null
      this.#session = parked.session
      this.#update({
        direction: parked.direction,
        remote: parked.remote,
        answeredAt: parked.answeredAt,
        held: true,
        call: 'on-hold',
        parked: null,
        outcome: null,
      })
      const handler = parked.session.sessionDescriptionHandler as Web.SessionDescriptionHandler
      if (handler) this.#options.listener.remoteStream(handler.remoteMediaStream)
    }
    // A call knocking at a call that just ended now rings as usual.
    const waiting = this.#waiting
    if (!this.#session && waiting && waiting.state === SessionState.Initial) {
      this.#waiting = null
      this.#update({ waiting: null })
      this.#track(waiting, 'inbound', this.#remoteOf(waiting))
      this.#update({ call: 'incoming' })
      this.#options.tones.play(RINGTONE)
    }
  }

  /** The connection is gone: the call cannot continue (its signalling rode on it). */
  #endCallLocally(): void {
    const session = this.#session
    if (!session) return
    this.#update({ outcome: 'connection-lost' })
    session.dispose().catch(() => {})
  }

  #applySenderTracks(): void {
    const handler = this.#session?.sessionDescriptionHandler as
      Web.SessionDescriptionHandler | undefined
    if (!handler?.peerConnection) return
    handler.enableSenderTracks(!this.#snapshot.muted && !this.#snapshot.held)
  }

  #startStats(): void {
    this.#stopStats()
    this.#lastSample = null
    this.#statsTimer = setInterval(async () => {
      const peerConnection = this.peerConnection
      if (!peerConnection) return
      const sample = readSample(await peerConnection.getStats())
      this.#options.listener.quality(assessQuality(this.#lastSample, sample))
      this.#lastSample = sample
    }, STATS_INTERVAL_MS)
  }

  #stopStats(): void {
    if (this.#statsTimer) clearInterval(this.#statsTimer)
    this.#statsTimer = null
    this.#lastSample = null
  }

  #clearTimers(): void {
    for (const timer of [this.#reconnectTimer, this.#renewTimer]) if (timer) clearTimeout(timer)
    this.#reconnectTimer = null
    this.#renewTimer = null
    this.#stopStats()
  }

  #update(change: Partial<PhoneSnapshot>): void {
    this.#snapshot = {
      ...this.#snapshot,
      ...change,
      consultation: this.#consultationState(),
      encryption: this.#session ? (this.#encryptions.get(this.#session)?.status ?? null) : null,
    }
    this.#options.listener.changed(this.snapshot)
  }

  #consultationState(): PhoneSnapshot['consultation'] {
    const consultation = this.#consultation
    if (!consultation || consultation.party.state !== SessionState.Established) return null
    const call = consultation.call
    if (!call || call.state === SessionState.Terminated) return 'ended'
    return call.state === SessionState.Established ? 'connected' : 'calling'
  }
}
