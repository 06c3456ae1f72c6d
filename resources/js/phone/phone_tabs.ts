import type { CallQuality } from './call_quality.js'
import type { PhonePage } from './phone_page.js'
import type {
  PhoneControls,
  PhoneListener,
  PhoneSnapshot,
  PlaceCallOptions,
  PublicLogin,
  WebPhone,
} from './web_phone.js'

/** One phone per browser (per origin and profile): the tab holding this lock registers. */
const LOCK_NAME = 'fluffycall-web-phone'
const CHANNEL_NAME = 'fluffycall-web-phone'

type Command =
  | 'call'
  | 'hangUp'
  | 'accept'
  | 'reject'
  | 'setMuted'
  | 'setHeld'
  | 'sendDtmf'
  | 'acceptWaiting'
  | 'rejectWaiting'
  | 'switchCalls'
  | 'transfer'
  | 'consult'
  | 'connectConsultation'
  | 'cancelConsultation'

type TabMessage =
  | {
      kind: 'state'
      snapshot: PhoneSnapshot
      login: PublicLogin | null
      quality: CallQuality | null
    }
  | { kind: 'hello' }
  | { kind: 'command'; name: Command; args: unknown[] }

/** A follower tab's controls: each one is a message to the holder. */
class RemotePhone implements PhoneControls {
  readonly peerConnection = undefined
  constructor(private channel: BroadcastChannel) {}
  #send(name: Command, ...args: unknown[]) {
    this.channel.postMessage({ kind: 'command', name, args } satisfies TabMessage)
  }
  async call(target: string, options: PlaceCallOptions) {
    this.#send('call', target, options)
  }
  async hangUp() {
    this.#send('hangUp')
  }
  async accept() {
    this.#send('accept')
  }
  async reject() {
    this.#send('reject')
  }
  setMuted(muted: boolean) {
    this.#send('setMuted', muted)
  }
  async setHeld(held: boolean) {
    this.#send('setHeld', held)
  }
  sendDtmf(tone: string) {
    this.#send('sendDtmf', tone)
    return true
  }
  async acceptWaiting() {
    this.#send('acceptWaiting')
  }
  async rejectWaiting() {
    this.#send('rejectWaiting')
  }
  async switchCalls() {
    this.#send('switchCalls')
  }
  async transfer(target: string) {
    this.#send('transfer', target)
  }
  async consult(target: string, options: PlaceCallOptions) {
    this.#send('consult', target, options)
  }
  async connectConsultation() {
    this.#send('connectConsultation')
  }
  async cancelConsultation() {
    this.#send('cancelConsultation')
  }
}

export interface PhoneTabsOptions {
  page: PhonePage
  /** Creates this tab's WebPhone once it holds the lock; `listener` hears its states. */
  createPhone(listener: PhoneListener): WebPhone
  /** This tab became the holder (the browser tests read window.__phone). */
  onHolder?(phone: WebPhone): void
}

/**
 * Several tabs, one phone: the tab that gets the Web Lock holds the WebPhone (registration, calls,
 * audio) and broadcasts its state; the other tabs show that state and send their clicks to it over
 * a BroadcastChannel. When the holder closes, its lock is released and a waiting tab takes over,
 * so an incoming call rings once per browser and closing another tab leaves the call alone.
 */
export class PhoneTabs {
  readonly #options: PhoneTabsOptions
  readonly #channel: BroadcastChannel | null
  #phone: WebPhone | null = null
  #quality: CallQuality | null = null

  constructor(options: PhoneTabsOptions) {
    this.#options = options
    this.#channel =
      typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(CHANNEL_NAME)
    this.#channel?.addEventListener('message', (event: MessageEvent<TabMessage>) =>
      this.#receive(event.data)
    )
  }

  get phone(): WebPhone | null {
    return this.#phone
  }

  start(): void {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
    if (!locks || !this.#channel) {
      void this.#hold()
      return
    }
    this.#options.page.use(new RemotePhone(this.#channel), 'follower')
    this.#channel.postMessage({ kind: 'hello' } satisfies TabMessage)
    // Held until this document goes away; the browser then hands it to the next waiting tab.
    void locks.request(LOCK_NAME, () => {
      void this.#hold()
      return new Promise<void>(() => {})
    })
  }

  async #hold(): Promise<void> {
    const page = this.#options.page
    const listener: PhoneListener = {
      changed: (snapshot) => {
        page.changed(snapshot)
        this.#broadcast()
      },
      login: (login) => {
        page.login(login)
        this.#broadcast()
      },
      remoteStream: (stream) => page.remoteStream(stream),
      quality: (quality) => {
        this.#quality = quality
        page.quality(quality)
        this.#broadcast()
      },
    }
    const phone = this.#options.createPhone(listener)
    this.#phone = phone
    page.use(phone, 'holder')
    this.#options.onHolder?.(phone)
    await phone.start()
  }

  #broadcast(): void {
    const phone = this.#phone
    if (!phone || !this.#channel) return
    const message: TabMessage = {
      kind: 'state',
      snapshot: phone.snapshot,
      login: phone.login,
      quality: this.#quality,
    }
    this.#channel.postMessage(message)
  }

  #receive(message: TabMessage): void {
    const phone = this.#phone
    if (message.kind === 'hello') {
      this.#broadcast()
    } else if (message.kind === 'state' && !phone) {
      const page = this.#options.page
      if (message.login) page.login(message.login)
      page.changed(message.snapshot)
      page.quality(message.quality)
    } else if (message.kind === 'command' && phone) {
      this.#run(phone, message.name, message.args)
    }
  }

  #run(phone: WebPhone, name: Command, args: unknown[]): void {
    if (name === 'call') void phone.call(String(args[0]), args[1] as PlaceCallOptions)
    else if (name === 'hangUp') void phone.hangUp()
    else if (name === 'accept') void phone.accept()
    else if (name === 'reject') void phone.reject()
    else if (name === 'setMuted') phone.setMuted(Boolean(args[0]))
    else if (name === 'setHeld') void phone.setHeld(Boolean(args[0]))
    else if (name === 'sendDtmf') phone.sendDtmf(String(args[0]))
    else if (name === 'acceptWaiting') void phone.acceptWaiting()
    else if (name === 'rejectWaiting') void phone.rejectWaiting()
    else if (name === 'switchCalls') void phone.switchCalls()
    else if (name === 'transfer') void phone.transfer(String(args[0]))
    else if (name === 'consult') void phone.consult(String(args[0]), args[1] as PlaceCallOptions)
    else if (name === 'connectConsultation') void phone.connectConsultation()
    else if (name === 'cancelConsultation') void phone.cancelConsultation()
  }
}
