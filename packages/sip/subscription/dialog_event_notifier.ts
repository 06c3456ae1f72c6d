import type SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import type NameAddress from '#sip/message/name_address'
import SipUri from '#sip/message/sip_uri'
import { createResponse } from '#sip/message/create_response'
import { randomToken } from '#sip/message/random_token'
import type { SipClock, TimerHandle } from '#sip/clock/sip_clock'
import type { SipDestination } from '#sip/transaction/transaction_transport'
import type IncomingRequest from '#sip/ua/incoming_request'
import type SipUserAgentCore from '#sip/ua/sip_user_agent_core'
import { dialogInfoXml, type DialogInfoEntry } from '#sip/subscription/dialog_info'

export const DIALOG_INFO_TYPE = 'application/dialog-info+xml'

/** What the owner decides about a SUBSCRIBE (initial or refresh). */
export type SubscriptionDecision =
  /** Accepted: `resource` names whose dialogs are watched (the owner's key, e.g. a user id). */
  | {
      kind: 'accept'
      resource: string
      /** Who subscribes (the owner's key, e.g. a user id): their subscriptions are capped. */
      subscriber?: string
    }
  /** Refused with this answer (401 with challenges, 403, 404 ...). */
  | { kind: 'reject'; status: number; reason?: string; headers?: Array<[string, string]> }

export type SubscriptionAuthorizer = (
  request: SipRequest,
  source: SipDestination
) => Promise<SubscriptionDecision>

export interface DialogEventNotifierOptions {
  core: SipUserAgentCore
  clock: SipClock
  authorize: SubscriptionAuthorizer
  /** Shorter subscriptions get 423 (RFC 6665 4.2.1.1); seconds. */
  minExpires?: number
  /** Longer ones are shortened to this; also the default without Expires; seconds. */
  maxExpires?: number
  /** Subscriptions one subscriber may hold at once (a phone has a few dozen keys at most). */
  maxPerSubscriber?: number
  /** Told about unexpected failures (a throwing authorizer). */
  onError?: (error: unknown) => void
}

/** Why a subscription ended, as written in its last NOTIFY (RFC 6665 4.1.3). */
type EndReason = 'timeout' | 'unsubscribed' | 'deactivated' | 'rejected' | 'gone'

interface Subscription {
  key: string
  resource: string
  subscriber: string | undefined
  callId: string
  localTag: string
  /** Our side: the SUBSCRIBE's To without tag (From of our NOTIFYs). */
  local: NameAddress
  /** The subscriber: the SUBSCRIBE's From with its tag (To of our NOTIFYs). */
  remote: NameAddress
  remoteTarget: SipUri
  destination: SipDestination
  entity: string
  remoteCSeq: number
  localCSeq: number
  version: number
  expiresAt: number
  timer: TimerHandle | undefined
  /** A NOTIFY is out; the next waits for its answer (one at a time, the newest state wins). */
  inFlight: boolean
  /** The newest state to send once the NOTIFY out is answered (terminated dialogs included). */
  pending: DialogInfoEntry[] | undefined
  ended: boolean
}

/**
 * The notifier of the dialog event package (RFC 6665 SUBSCRIBE/NOTIFY, RFC 4235 dialog-info):
 * SUBSCRIBE creates a subscription dialog, answered 200 with its Expires and followed at once by a
 * NOTIFY with the full state; `publish` sends a NOTIFY to every subscriber of a resource; a
 * re-SUBSCRIBE refreshes, Expires: 0 unsubscribes, the clock expires, and a NOTIFY answered 481
 * or timing out ends the subscription. Subscriptions and states live in this process's memory.
 */
export default class DialogEventNotifier {
  readonly #options: DialogEventNotifierOptions
  readonly #minExpires: number
  readonly #maxExpires: number
  readonly #maxPerSubscriber: number
  readonly #subscriptions = new Map<string, Subscription>()
  /** The same subscriptions by resource: a call's change looks up only its lamps' watchers. */
  readonly #byResource = new Map<string, Set<Subscription>>()
  readonly #states = new Map<string, DialogInfoEntry[]>()

  constructor(options: DialogEventNotifierOptions) {
    this.#options = options
    this.#minExpires = options.minExpires ?? 60
    this.#maxExpires = options.maxExpires ?? 3600
    this.#maxPerSubscriber = options.maxPerSubscriber ?? 100
  }

  /** Takes SUBSCRIBE from the core (outside and inside subscription dialogs). */
  attach(): void {
    const core = this.#options.core
    core.setHandler('SUBSCRIBE', (incoming) => this.#receive(incoming, undefined))
    core.setInDialogHandler('SUBSCRIBE', (incoming) => {
      const subscription = this.#subscriptions.get(keyOf(incoming.request))
      if (!subscription || subscription.ended) return false
      this.#receive(incoming, subscription)
      return true
    })
  }

  detach(): void {
    this.#options.core.setHandler('SUBSCRIBE', undefined)
    this.#options.core.setInDialogHandler('SUBSCRIBE', undefined)
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size
  }

  /** The subscriptions watching a resource (tests, metrics). */
  subscribersOf(resource: string): number {
    return this.#byResource.get(resource)?.size ?? 0
  }

  /**
   * The resource's dialogs changed: every subscriber gets a NOTIFY with the full state. Entries
   * in state `terminated` are reported once and then forgotten.
   */
  publish(resource: string, entries: DialogInfoEntry[]): void {
    const live = entries.filter((entry) => entry.state !== 'terminated')
    const watchers = this.#byResource.get(resource)
    // Nobody watches (most lines, most of the time): the state is kept for a later SUBSCRIBE's
    // first NOTIFY, without comparing it to the last one (issue 17).
    const changed =
      watchers !== undefined &&
      JSON.stringify(this.#states.get(resource) ?? []) !== JSON.stringify(entries)
    if (live.length > 0) this.#states.set(resource, live)
    else this.#states.delete(resource)
    if (!changed) return
    for (const subscription of watchers) this.#notify(subscription, entries)
  }

  /** Ends every subscription of a resource (presence turned off): NOTIFY terminated. */
  endSubscriptionsOf(resource: string): void {
    for (const subscription of [...(this.#byResource.get(resource) ?? [])]) {
      this.#end(subscription, 'deactivated', true)
    }
  }

  /** Ends every subscription with a NOTIFY terminated;reason=deactivated (shutdown). */
  endAll(): void {
    for (const subscription of [...this.#subscriptions.values()]) {
      this.#end(subscription, 'deactivated', true)
    }
    this.#states.clear()
  }

  /** Ends everything without signalling. */
  close(): void {
    for (const subscription of [...this.#subscriptions.values()]) {
      this.#end(subscription, 'gone', false)
    }
    this.#states.clear()
  }

  #receive(incoming: IncomingRequest, existing: Subscription | undefined): void {
    const request = incoming.request
    const event = (request.headers.get('event') ?? '').split(';')[0].trim().toLowerCase()
    if (event !== 'dialog') {
      incoming.respond(489, { headers: [['Allow-Events', 'dialog']] })
      return
    }
    const accept = request.headers.getAll('accept').join(',').toLowerCase()
    if (accept.trim() !== '' && !accept.includes(DIALOG_INFO_TYPE)) {
      incoming.respond(406, { headers: [['Accept', DIALOG_INFO_TYPE]] })
      return
    }
    if (existing && request.cseq.sequence <= existing.remoteCSeq) {
      incoming.respond(500, { reason: 'Out of order' })
      return
    }
    const asked = parseExpires(request.headers.get('expires'))
    if (asked === null) {
      incoming.respond(400, { reason: 'Bad Expires' })
      return
    }
    const wanted = asked ?? this.#maxExpires
    if (wanted > 0 && wanted < this.#minExpires) {
      incoming.respond(423, { headers: [['Min-Expires', String(this.#minExpires)]] })
      return
    }
    const expires = Math.min(wanted, this.#maxExpires)
    const source = incoming.transaction.destination
    this.#options
      .authorize(request, source)
      .then((decision) => {
        if (decision.kind === 'reject') {
          incoming.respond(decision.status, { reason: decision.reason, headers: decision.headers })
          return
        }
        if (existing) {
          if (existing.ended) {
            incoming.respond(481)
            return
          }
          existing.remoteCSeq = request.cseq.sequence
          this.#answer(incoming, existing, expires)
          this.#refresh(existing, expires)
          return
        }
        if (
          decision.subscriber !== undefined &&
          this.#countOf(decision.subscriber) >= this.#maxPerSubscriber
        ) {
          incoming.respond(403, { reason: 'Too many subscriptions' })
          return
        }
        const subscription = this.#create(request, source, decision.resource, decision.subscriber)
        this.#answer(incoming, subscription, expires)
        this.#refresh(subscription, expires)
      })
      .catch((error) => {
        incoming.respond(500)
        this.#options.onError?.(error)
      })
  }

  #countOf(subscriber: string): number {
    let count = 0
    for (const subscription of this.#subscriptions.values()) {
      if (subscription.subscriber === subscriber) count += 1
    }
    return count
  }

  #create(
    request: SipRequest,
    source: SipDestination,
    resource: string,
    subscriber: string | undefined
  ): Subscription {
    const localTag = randomToken()
    const contact = request.contacts[0]?.uri
    const target = request.uri as SipUri
    const subscription: Subscription = {
      key: '',
      resource,
      subscriber,
      callId: request.callId,
      localTag,
      local: request.to,
      remote: request.from,
      remoteTarget: contact instanceof SipUri ? contact : (request.from.uri as SipUri),
      destination: source,
      entity: new SipUri({ user: target.user, host: target.host }).toString(),
      remoteCSeq: request.cseq.sequence,
      localCSeq: 0,
      version: 0,
      expiresAt: 0,
      timer: undefined,
      inFlight: false,
      pending: undefined,
      ended: false,
    }
    subscription.key = dialogKey(request.callId, localTag, request.from.tag ?? '')
    this.#subscriptions.set(subscription.key, subscription)
    const watchers = this.#byResource.get(subscription.resource)
    if (watchers) watchers.add(subscription)
    else this.#byResource.set(subscription.resource, new Set([subscription]))
    return subscription
  }

  #answer(incoming: IncomingRequest, subscription: Subscription, expires: number): void {
    const response = createResponse(incoming.request, 200, {
      toTag: subscription.localTag,
      headers: [
        ['Expires', String(expires)],
        ['Contact', this.#contact(subscription).toString()],
      ],
    })
    incoming.send(response)
  }

  /** Sets the new expiry and sends the NOTIFY that follows every accepted SUBSCRIBE. */
  #refresh(subscription: Subscription, expires: number): void {
    const clock = this.#options.clock
    if (subscription.timer) clock.clearTimeout(subscription.timer)
    subscription.timer = undefined
    if (expires === 0) {
      this.#end(subscription, 'unsubscribed', true)
      return
    }
    subscription.expiresAt = clock.now() + expires * 1000
    subscription.timer = clock.setTimeout(
      () => this.#end(subscription, 'timeout', true),
      expires * 1000
    )
    this.#notify(subscription, this.#states.get(subscription.resource) ?? [])
  }

  #end(subscription: Subscription, reason: EndReason, signal: boolean): void {
    if (subscription.ended) return
    if (subscription.timer) this.#options.clock.clearTimeout(subscription.timer)
    subscription.timer = undefined
    subscription.ended = true
    this.#subscriptions.delete(subscription.key)
    const watchers = this.#byResource.get(subscription.resource)
    watchers?.delete(subscription)
    if (watchers?.size === 0) this.#byResource.delete(subscription.resource)
    if (signal) {
      const state =
        reason === 'unsubscribed'
          ? 'terminated'
          : `terminated;reason=${reason === 'gone' ? 'noresource' : reason}`
      this.#send(subscription, state, this.#states.get(subscription.resource) ?? [], false)
    }
  }

  #notify(subscription: Subscription, entries: DialogInfoEntry[]): void {
    if (subscription.ended) return
    if (subscription.inFlight) {
      // The newest state goes once the NOTIFY out is answered (full state: nothing is lost).
      subscription.pending = entries
      return
    }
    const left = Math.max(0, Math.ceil((subscription.expiresAt - this.#options.clock.now()) / 1000))
    this.#send(subscription, `active;expires=${left}`, entries, true)
  }

  #send(
    subscription: Subscription,
    state: string,
    entries: DialogInfoEntry[],
    follow: boolean
  ): void {
    const body = dialogInfoXml({
      version: subscription.version,
      entity: subscription.entity,
      entries,
    })
    subscription.version += 1
    subscription.localCSeq += 1
    subscription.inFlight = follow
    this.#options.core.request({
      method: 'NOTIFY',
      uri: subscription.remoteTarget,
      to: subscription.remote,
      from: subscription.local,
      fromTag: subscription.localTag,
      callId: subscription.callId,
      cseq: subscription.localCSeq,
      destination: subscription.destination,
      contact: this.#contact(subscription),
      headers: [
        ['Event', 'dialog'],
        ['Subscription-State', state],
      ],
      description: { body: Buffer.from(body), contentType: DIALOG_INFO_TYPE },
      nextCSeq: () => ++subscription.localCSeq,
      onFinal: (response) => this.#answered(subscription, response, follow),
    })
  }

  #answered(subscription: Subscription, response: SipResponse, follow: boolean): void {
    if (!follow) return
    subscription.inFlight = false
    // RFC 6665 4.2.2: 481 and a timeout (408) end the subscription; so does a transport error.
    if (response.status === 481 || response.status === 408 || response.status === 503) {
      this.#end(subscription, 'gone', false)
      return
    }
    const pending = subscription.pending
    if (pending) {
      subscription.pending = undefined
      this.#notify(subscription, pending)
    }
  }

  #contact(subscription: Subscription): NameAddress {
    return this.#options.core.contact(subscription.destination.protocol)
  }
}

/** undefined: no Expires; null: not a number. */
function parseExpires(value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (!/^\d{1,10}$/.test(trimmed)) return null
  return Number(trimmed)
}

function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\n${localTag}\n${remoteTag}`
}

function keyOf(request: SipRequest): string {
  return dialogKey(request.callId, request.to.tag ?? '', request.from.tag ?? '')
}
