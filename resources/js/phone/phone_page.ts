import { AudioDevices } from './audio_devices.js'
import type { CallQuality } from './call_quality.js'
import { normaliseDialled } from './dialled_number.js'
import { TonePlayer } from './tone_player.js'
import { WebPhone, type PhoneListener, type PhoneSnapshot, type WebPhoneLogin } from './web_phone.js'

/** Translated texts handed over by the page (PhoneController, phone.script.*). */
type Texts = Record<string, string>

/** How long a call's outcome (busy, ended ...) stays shown before the page shows "ready" again. */
const OUTCOME_SHOWN_MS = 4000

function required<T extends Element>(root: ParentNode, selector: string): T {
  const element = root.querySelector<T>(selector)
  if (!element) throw new Error(`web phone page: ${selector} is missing`)
  return element
}

function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (match, name: string) => (name in values ? String(values[name]) : match))
}

function clock(milliseconds: number): string {
  const total = Math.max(0, Math.floor(milliseconds / 1000))
  const hours = Math.floor(total / 3600)
  const minutes = String(Math.floor((total % 3600) / 60)).padStart(2, '0')
  const seconds = String(total % 60).padStart(2, '0')
  return hours > 0 ? `${hours}:${minutes}:${seconds}` : `${minutes}:${seconds}`
}

/**
 * The web phone page: binds the DOM of pages/customer/phone.edge to a WebPhone. The state is
 * mirrored into data attributes of #web-phone (data-phone-state, -registration, -outcome,
 * -last-status) for people's eyes via CSS and for the browser tests.
 */
export class PhonePage implements PhoneListener {
  readonly phone: WebPhone
  readonly #root: HTMLElement
  readonly #texts: Texts
  readonly #defaultCountry: string
  readonly #echoNumber: string
  readonly #devices = new AudioDevices()
  readonly #tones = new TonePlayer()
  readonly #audio: HTMLAudioElement
  #snapshot: PhoneSnapshot | null = null
  #timer: ReturnType<typeof setInterval> | null = null
  #outcomeTimer: ReturnType<typeof setTimeout> | null = null
  #outcomeShown = false
  #notification: Notification | null = null

  constructor(root: HTMLElement) {
    this.#root = root
    this.#texts = JSON.parse(root.dataset.texts ?? '{}') as Texts
    this.#defaultCountry = root.dataset.defaultCountry ?? 'DE'
    this.#echoNumber = root.dataset.echoNumber ?? '*43'
    this.#audio = required<HTMLAudioElement>(root, '#phone-remote-audio')
    this.phone = new WebPhone({
      credentialUrl: root.dataset.credentialUrl ?? '',
      csrfToken: root.dataset.csrfToken ?? '',
      devices: this.#devices,
      tones: this.#tones,
      listener: this,
    })
    this.#bind()
  }

  async start(): Promise<void> {
    void this.#fillDeviceLists()
    this.#devices.onChange(() => void this.#fillDeviceLists())
    await this.#devices.applySpeaker(this.#audio)
    await this.#tones.setSink(this.#devices.speakerId)
    await this.phone.start()
  }

  t(key: string, values: Record<string, string | number> = {}): string {
    return format(this.#texts[key] ?? key, values)
  }

  // PhoneListener

  changed(snapshot: PhoneSnapshot): void {
    const previous = this.#snapshot
    this.#snapshot = snapshot
    if (previous?.call && !snapshot.call) this.#showOutcome()
    if (snapshot.call) this.#hideOutcome()
    this.#render()
    if (snapshot.call === 'incoming' && previous?.call !== 'incoming') this.#notifyIncoming(snapshot)
    if (snapshot.call !== 'incoming') this.#closeNotification()
    // Device names are readable once the microphone was granted, i.e. from the first call on.
    if (snapshot.call === 'in-call' && previous?.call !== 'in-call') void this.#fillDeviceLists()
  }

  login(login: WebPhoneLogin): void {
    const select = required<HTMLSelectElement>(this.#root, '#phone-caller-id')
    const chosen = select.value || login.defaultCallerId
    select.replaceChildren()
    if (login.callerIds.length === 0) {
      select.append(new Option(select.dataset.emptyLabel ?? '', ''))
      select.disabled = true
    } else {
      for (const number of login.callerIds) select.append(new Option(number, number, false, number === chosen))
      select.disabled = false
    }
    required<HTMLInputElement>(this.#root, '#phone-withhold').checked = login.clirDefault
    required<HTMLElement>(this.#root, '#phone-emergency-only').hidden = !login.emergencyOnly
  }

  remoteStream(stream: MediaStream): void {
    if (this.#audio.srcObject !== stream) this.#audio.srcObject = stream
    void this.#audio.play().catch(() => {})
  }

  quality(quality: CallQuality | null): void {
    const box = required<HTMLElement>(this.#root, '#phone-quality')
    box.hidden = quality === null
    if (!quality) return
    box.dataset.grade = quality.grade
    box.dataset.mos = String(quality.mos)
    required<HTMLElement>(box, '#phone-quality-grade').textContent = this.t(`quality.${quality.grade}`)
    required<HTMLElement>(box, '#phone-quality-details').textContent = this.t('quality.summary', {
      mos: quality.mos.toFixed(1),
      loss: quality.lossPercent,
      jitter: quality.jitterMs,
      rtt: quality.rttMs,
    })
  }

  // Drawing

  /** The one state name the page shows: the call's, else a recent outcome, else the registration's. */
  #state(snapshot: PhoneSnapshot): string {
    if (snapshot.call) return snapshot.call
    if (this.#outcomeShown && snapshot.outcome) return snapshot.outcome
    return snapshot.registration
  }

  #render(): void {
    const snapshot = this.#snapshot
    if (!snapshot) return
    const state = this.#state(snapshot)
    const root = this.#root
    root.dataset.phoneState = state
    root.dataset.phoneRegistration = snapshot.registration
    root.dataset.phoneOutcome = snapshot.outcome ?? ''
    root.dataset.phoneLastStatus = snapshot.lastStatus === null ? '' : String(snapshot.lastStatus)

    const status = required<HTMLElement>(root, '#phone-status')
    status.textContent =
      state === 'refused'
        ? this.t('state.refused', { reason: snapshot.lastReason ?? String(snapshot.lastStatus ?? '') })
        : this.t(`state.${state.replaceAll('-', '_')}`)

    const inCall = snapshot.call === 'in-call' || snapshot.call === 'on-hold'
    const busy = snapshot.call !== null
    required<HTMLButtonElement>(root, '#phone-call').disabled = busy || snapshot.registration !== 'registered'
    required<HTMLButtonElement>(root, '#phone-hangup').hidden = !busy || snapshot.call === 'incoming'
    for (const id of ['#phone-mute', '#phone-hold']) required<HTMLButtonElement>(root, id).hidden = !inCall
    const mute = required<HTMLButtonElement>(root, '#phone-mute')
    mute.setAttribute('aria-pressed', String(snapshot.muted))
    mute.textContent = this.t(snapshot.muted ? 'unmute' : 'mute')
    const hold = required<HTMLButtonElement>(root, '#phone-hold')
    hold.setAttribute('aria-pressed', String(snapshot.held))
    hold.textContent = this.t(snapshot.held ? 'resume' : 'hold')

    const incoming = required<HTMLElement>(root, '#phone-incoming')
    incoming.hidden = snapshot.call !== 'incoming'
    if (snapshot.call === 'incoming') {
      required<HTMLElement>(incoming, '#phone-incoming-caller').textContent = this.#callerLabel(snapshot)
    }
    this.#renderTimer(snapshot)
  }

  #renderTimer(snapshot: PhoneSnapshot): void {
    const timer = required<HTMLElement>(this.#root, '#phone-timer')
    if (snapshot.answeredAt === null) {
      if (this.#timer) clearInterval(this.#timer)
      this.#timer = null
      timer.hidden = true
      return
    }
    const answeredAt = snapshot.answeredAt
    const tick = () => (timer.textContent = clock(Date.now() - answeredAt))
    tick()
    timer.hidden = false
    if (!this.#timer) this.#timer = setInterval(tick, 1000)
  }

  #callerLabel(snapshot: PhoneSnapshot): string {
    const remote = snapshot.remote
    const number = remote?.number ?? this.t('notification.withheld')
    return remote?.displayName ? `${remote.displayName} (${number})` : number
  }

  #showOutcome(): void {
    this.#outcomeShown = true
    if (this.#outcomeTimer) clearTimeout(this.#outcomeTimer)
    this.#outcomeTimer = setTimeout(() => {
      this.#outcomeShown = false
      this.#render()
    }, OUTCOME_SHOWN_MS)
  }

  #hideOutcome(): void {
    this.#outcomeShown = false
    if (this.#outcomeTimer) clearTimeout(this.#outcomeTimer)
    this.#outcomeTimer = null
  }

  // Input

  #bind(): void {
    const root = this.#root
    const form = required<HTMLFormElement>(root, '#phone-dial-form')
    const number = required<HTMLInputElement>(root, '#phone-number')
    // Browsers play audio only after a user gesture: the first click unlocks the ringtone.
    root.ownerDocument.addEventListener('click', () => this.#tones.unlock(), { once: true })

    form.addEventListener('submit', (event) => {
      event.preventDefault()
      void this.#dial()
    })
    number.addEventListener('input', () => this.#showNumberError(null))
    required<HTMLElement>(root, '#phone-dialpad').addEventListener('click', (event) => {
      const key = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-key]')?.dataset.key
      if (!key) return
      if (this.#snapshot?.call === 'in-call') {
        this.phone.sendDtmf(key)
      } else {
        number.value += key
        number.focus()
      }
    })
    required<HTMLButtonElement>(root, '#phone-hangup').addEventListener('click', () => void this.phone.hangUp())
    required<HTMLButtonElement>(root, '#phone-accept').addEventListener('click', () => void this.phone.accept())
    required<HTMLButtonElement>(root, '#phone-reject').addEventListener('click', () => void this.phone.reject())
    required<HTMLButtonElement>(root, '#phone-mute').addEventListener('click', () =>
      this.phone.setMuted(!this.#snapshot?.muted)
    )
    required<HTMLButtonElement>(root, '#phone-hold').addEventListener('click', () => void this.phone.setHeld(!this.#snapshot?.held))
    required<HTMLSelectElement>(root, '#phone-microphone').addEventListener('change', (event) => {
      void this.#devices.chooseMicrophone((event.target as HTMLSelectElement).value, this.phone.peerConnection)
    })
    required<HTMLSelectElement>(root, '#phone-speaker').addEventListener('change', (event) => {
      const id = (event.target as HTMLSelectElement).value
      void this.#devices.chooseSpeaker(id, [this.#audio]).then(() => this.#tones.setSink(id))
    })
    const notifications = required<HTMLButtonElement>(root, '#phone-notifications')
    notifications.hidden = typeof Notification === 'undefined' || Notification.permission !== 'default'
    notifications.addEventListener('click', () => {
      void Notification.requestPermission().then(() => (notifications.hidden = true))
    })
  }

  async #dial(): Promise<void> {
    const input = required<HTMLInputElement>(this.#root, '#phone-number')
    const dialled = normaliseDialled(input.value, this.#defaultCountry, [this.#echoNumber])
    if (!dialled.ok) {
      this.#showNumberError(this.t('error.invalid_number'))
      return
    }
    input.value = dialled.number
    const callerId = required<HTMLSelectElement>(this.#root, '#phone-caller-id').value || null
    const withhold = required<HTMLInputElement>(this.#root, '#phone-withhold').checked
    await this.phone.call(dialled.number, { callerId, withhold })
  }

  #showNumberError(message: string | null): void {
    const error = required<HTMLElement>(this.#root, '#phone-number-error')
    const input = required<HTMLInputElement>(this.#root, '#phone-number')
    error.hidden = message === null
    error.textContent = message ?? ''
    input.setAttribute('aria-invalid', String(message !== null))
    required<HTMLElement>(this.#root, '#phone-number-field').classList.toggle('has-error', message !== null)
  }

  async #fillDeviceLists(): Promise<void> {
    const { microphones, speakers } = await this.#devices.list().catch(() => ({ microphones: [], speakers: [] }))
    const fill = (select: HTMLSelectElement, choices: Array<{ id: string; label: string }>, chosen: string) => {
      select.replaceChildren(new Option(this.t('device.default'), ''))
      for (const choice of choices) select.append(new Option(choice.label, choice.id, false, choice.id === chosen))
      select.value = choices.some((choice) => choice.id === chosen) ? chosen : ''
    }
    fill(required<HTMLSelectElement>(this.#root, '#phone-microphone'), microphones, this.#devices.microphoneId)
    const speaker = required<HTMLSelectElement>(this.#root, '#phone-speaker')
    fill(speaker, speakers, this.#devices.speakerId)
    speaker.disabled = !this.#devices.canChooseSpeaker
  }

  #notifyIncoming(snapshot: PhoneSnapshot): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return
    this.#notification = new Notification(this.t('notification.title'), {
      body: this.t('notification.body', { caller: this.#callerLabel(snapshot) }),
      tag: 'fluffycall-incoming-call',
      requireInteraction: true,
    })
    this.#notification.onclick = () => {
      window.focus()
      this.#closeNotification()
    }
  }

  #closeNotification(): void {
    this.#notification?.close()
    this.#notification = null
  }
}
