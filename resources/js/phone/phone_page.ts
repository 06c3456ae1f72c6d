import type { AudioDevices } from './audio_devices.js'
import type { CallQuality } from './call_quality.js'
import { displayNumber, normaliseDialled } from './dialled_number.js'
import { outcomeReason, type FailedCall } from './outcome_reason.js'
import type { TonePlayer } from './tone_player.js'
import { PAGE_LOAD_EVENT } from '../shell/in_place_navigation.js'
import type { EncryptionStatus } from './e2ee/call_encryption.js'
import type {
  PhoneControls,
  PhoneListener,
  PhoneSnapshot,
  PlaceCallOptions,
  PublicLogin,
} from './web_phone.js'

/** Translated texts handed over by the page (PhoneController, phone.script.*). */
type Texts = Record<string, string>

/** How long "call ended" stays shown; failures stay, with their reason, until dismissed. */
const ENDED_SHOWN_MS = 4000

function required<T extends Element>(root: ParentNode, selector: string): T {
  const element = root.querySelector<T>(selector)
  if (!element) throw new Error(`web phone page: ${selector} is missing`)
  return element
}

function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (match, name: string) =>
    name in values ? String(values[name]) : match
  )
}

function clock(milliseconds: number): string {
  const total = Math.max(0, Math.floor(milliseconds / 1000))
  const hours = Math.floor(total / 3600)
  const minutes = String(Math.floor((total % 3600) / 60)).padStart(2, '0')
  const seconds = String(total % 60).padStart(2, '0')
  return hours > 0 ? `${hours}:${minutes}:${seconds}` : `${minutes}:${seconds}`
}

/** Where the page's controls go: the WebPhone of this tab, or the one another tab holds. */
export interface PhonePageOptions {
  devices: AudioDevices
  tones: TonePlayer
}

/** A colleague as GET /app/phone/colleagues lists them (PresenceService). */
interface Colleague {
  id: number
  name: string
  extension: string | null
  state: 'available' | 'on_call' | 'ringing' | 'do_not_disturb' | 'offline' | 'hidden'
}

/** How often the colleague list asks for presence while the page is visible. */
const COLLEAGUE_REFRESH_MS = 3000

/**
 * The docked phone: binds the DOM of components/phone_dock.edge to the phone's controls. The
 * state is mirrored into data attributes of #web-phone (data-phone-state, -registration, -outcome,
 * -last-status, -role) for people's eyes via CSS and for the browser tests.
 */
export class PhonePage implements PhoneListener {
  #controls: PhoneControls | null = null
  readonly #root: HTMLElement
  readonly #texts: Texts
  readonly #defaultCountry: string
  readonly #echoNumber: string
  readonly #devices: AudioDevices
  readonly #tones: TonePlayer
  readonly #audio: HTMLAudioElement
  #snapshot: PhoneSnapshot | null = null
  #timer: ReturnType<typeof setInterval> | null = null
  #outcomeTimer: ReturnType<typeof setTimeout> | null = null
  #outcomeShown = false
  #notification: Notification | null = null
  #loginSeen = ''

  constructor(root: HTMLElement, options: PhonePageOptions) {
    this.#root = root
    this.#texts = JSON.parse(root.dataset.texts ?? '{}') as Texts
    this.#defaultCountry = root.dataset.defaultCountry ?? 'DE'
    this.#echoNumber = root.dataset.echoNumber ?? '*43'
    this.#audio = required<HTMLAudioElement>(root, '#phone-remote-audio')
    this.#devices = options.devices
    this.#tones = options.tones
    this.#bind()
  }

  get audio(): HTMLAudioElement {
    return this.#audio
  }

  /** Holder: this tab's WebPhone; follower: commands to the tab that holds it. */
  use(controls: PhoneControls, role: 'holder' | 'follower'): void {
    this.#controls = controls
    this.#root.dataset.phoneRole = role
    required<HTMLElement>(this.#root, '#phone-other-tab').hidden = role !== 'follower'
  }

  async start(): Promise<void> {
    this.#watchColleagues()
    this.#watchForwarding()
    void this.#fillDeviceLists()
    this.#devices.onChange(() => void this.#fillDeviceLists())
    await this.#devices.applySpeaker(this.#audio)
    await this.#tones.setSink(this.#devices.speakerId)
  }

  t(key: string, values: Record<string, string | number> = {}): string {
    return format(this.#texts[key] ?? key, values)
  }

  // PhoneListener

  changed(snapshot: PhoneSnapshot): void {
    const previous = this.#snapshot
    this.#snapshot = snapshot
    // sip.js may report the final answer just after the session ended: the outcome can change late.
    const lateOutcome = this.#outcomeShown && snapshot.outcome !== previous?.outcome
    if (!snapshot.call && (previous?.call || lateOutcome)) this.#showOutcome(snapshot)
    if (snapshot.call && !previous?.call) this.#hideOutcome()
    this.#render()
    if (snapshot.call === 'incoming' && previous?.call !== 'incoming')
      this.#notifyIncoming(snapshot)
    if (snapshot.call !== 'incoming') this.#closeNotification()
    // Device names are readable once the microphone was granted, i.e. from the first call on.
    if (snapshot.call === 'in-call' && previous?.call !== 'in-call') void this.#fillDeviceLists()
  }

  login(login: PublicLogin): void {
    // Followers hear the login with every state; the choices are refilled when it changed only.
    const seen = JSON.stringify(login)
    if (seen === this.#loginSeen) return
    this.#loginSeen = seen
    const select = required<HTMLSelectElement>(this.#root, '#phone-caller-id')
    const chosen = select.value || login.defaultCallerId
    select.replaceChildren()
    if (login.callerIds.length === 0) {
      select.append(new Option(select.dataset.emptyLabel ?? '', ''))
      select.disabled = true
    } else {
      for (const number of login.callerIds)
        select.append(new Option(displayNumber(number), number, false, number === chosen))
      select.disabled = false
    }
    required<HTMLInputElement>(this.#root, '#phone-withhold').checked = login.clirDefault
    required<HTMLElement>(this.#root, '#phone-emergency-only').hidden = !login.emergencyOnly
    const extension = required<HTMLElement>(this.#root, '#phone-extension')
    extension.hidden = !login.extension
    extension.textContent = login.extension
      ? this.t('line.extension', { number: login.extension })
      : ''
    this.#showDoNotDisturb(Boolean(login.doNotDisturb))
  }

  /**
   * The colleague list: presence as the server sees it right now, asked again every few seconds
   * while the page is visible (the server keeps no presence history).
   */
  #watchColleagues() {
    const box = this.#root.querySelector<HTMLElement>('#phone-colleagues')
    if (!box?.dataset.url) return
    const refresh = async () => {
      if (document.visibilityState !== 'visible') return
      try {
        const response = await fetch(box.dataset.url!, {
          credentials: 'same-origin',
          headers: { Accept: 'application/json' },
        })
        if (response.ok) this.#showColleagues((await response.json()) as Colleague[])
      } catch {
        // Offline for a moment: the list stays as it was until the next round.
      }
    }
    void refresh()
    setInterval(() => void refresh(), COLLEAGUE_REFRESH_MS)
    document.addEventListener('visibilitychange', () => void refresh())
  }

  /**
   * "Forwarding on", linking to the settings: asked on start, after each page that loads in place
   * (the settings form is one) and when the tab shows again.
   */
  #watchForwarding() {
    const note = this.#root.querySelector<HTMLElement>('#phone-forwarding-on')
    if (!note?.dataset.url) return
    const refresh = async () => {
      try {
        const response = await fetch(note.dataset.url!, {
          credentials: 'same-origin',
          headers: { Accept: 'application/json' },
        })
        if (response.ok) note.hidden = !((await response.json()) as { active: boolean }).active
      } catch {
        // Offline for a moment: the note stays as it was until the next page.
      }
    }
    void refresh()
    document.addEventListener(PAGE_LOAD_EVENT, () => void refresh())
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void refresh()
    })
  }

  #showColleagues(colleagues: Colleague[]) {
    const list = required<HTMLElement>(this.#root, '#phone-colleague-list')
    required<HTMLElement>(this.#root, '#phone-colleagues-empty').hidden = colleagues.length > 0
    list.replaceChildren(
      ...colleagues.map((colleague) => {
        const item = document.createElement('li')
        item.dataset.user = String(colleague.id)
        item.dataset.presence = colleague.state
        const name = document.createElement('span')
        name.className = 'colleague-name'
        name.textContent = colleague.extension
          ? `${colleague.name} (${colleague.extension})`
          : colleague.name
        item.append(name)
        if (colleague.state !== 'hidden') {
          const state = document.createElement('small')
          state.className = `presence presence-${colleague.state}`
          state.textContent = this.t(`presence.${colleague.state}`)
          item.append(' ', state)
        }
        if (colleague.extension) {
          const dial = document.createElement('button')
          dial.type = 'button'
          dial.className = 'secondary small'
          dial.textContent = this.t('presence.dial')
          dial.setAttribute('aria-label', this.t('presence.call', { name: colleague.name }))
          dial.addEventListener('click', () => {
            required<HTMLInputElement>(this.#root, '#phone-number').value = colleague.extension!
            required<HTMLFormElement>(this.#root, '#phone-dial-form').requestSubmit()
          })
          item.append(' ', dial)
        }
        return item
      })
    )
  }

  /** Do not disturb as the server has it: the box, the notice, and data-do-not-disturb. */
  #showDoNotDisturb(on: boolean) {
    required<HTMLInputElement>(this.#root, '#phone-dnd').checked = on
    required<HTMLElement>(this.#root, '#phone-dnd-on').hidden = !on
    this.#root.dataset.doNotDisturb = on ? 'on' : 'off'
  }

  /** The box changes the setting on the server (PUT /app/phone/line); on failure it flips back. */
  async #toggleDoNotDisturb(box: HTMLInputElement) {
    const wanted = box.checked
    const error = required<HTMLElement>(this.#root, '#phone-dnd-error')
    error.hidden = true
    try {
      const response = await fetch(box.dataset.url ?? '', {
        method: 'PUT',
        credentials: 'same-origin',
        headers: {
          'Accept': 'application/json',
          'Content-Type': 'application/json',
          'X-CSRF-TOKEN': this.#root.dataset.csrfToken ?? '',
        },
        body: JSON.stringify({ do_not_disturb: wanted }),
      })
      if (!response.ok) throw new Error(`status ${response.status}`)
      const line = (await response.json()) as { doNotDisturb: boolean }
      this.#showDoNotDisturb(line.doNotDisturb)
    } catch {
      this.#showDoNotDisturb(!wanted)
      error.hidden = false
    }
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
    required<HTMLElement>(box, '#phone-quality-grade').textContent = this.t(
      `quality.${quality.grade}`
    )
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
        ? this.t('state.refused', {
            reason: snapshot.lastReason ?? String(snapshot.lastStatus ?? ''),
          })
        : this.t(`state.${state.replaceAll('-', '_')}`)

    const inCall = snapshot.call === 'in-call' || snapshot.call === 'on-hold'
    const busy = snapshot.call !== null
    const consultation = snapshot.consultation ?? null
    const transferring = snapshot.transfer === 'pending'
    required<HTMLButtonElement>(root, '#phone-call').disabled =
      busy || snapshot.registration !== 'registered'
    required<HTMLButtonElement>(root, '#phone-hangup').hidden =
      !busy || snapshot.call === 'incoming'
    for (const id of ['#phone-mute', '#phone-hold'])
      required<HTMLButtonElement>(root, id).hidden = !inCall
    // Either side of an answered call may transfer its party (the server refers it on).
    const transferable = inCall && !transferring && !consultation
    required<HTMLButtonElement>(root, '#phone-transfer').hidden = !transferable
    // A consultation whose call is over may call the next colleague.
    required<HTMLButtonElement>(root, '#phone-consult').hidden = !(
      (transferable && !snapshot.parked && !snapshot.waiting) ||
      consultation === 'ended'
    )
    required<HTMLButtonElement>(root, '#phone-consult-connect').hidden =
      consultation !== 'connected' || transferring
    required<HTMLButtonElement>(root, '#phone-consult-back').hidden =
      consultation === null || transferring
    root.dataset.phoneConsultation = consultation ?? ''
    root.dataset.phoneTransfer = snapshot.transfer ?? ''
    const transfer = required<HTMLElement>(root, '#phone-transfer-status')
    // A completed transfer ends the call: "transferred" stays beside the outcome.
    const transferState = inCall
      ? (snapshot.transfer ?? null)
      : this.#outcomeShown && snapshot.transfer === 'done'
        ? 'done'
        : null
    transfer.hidden = transferState === null
    transfer.textContent =
      transferState === 'failed'
        ? this.t('transfer.failed', {
            reason: snapshot.lastReason || String(snapshot.lastStatus ?? ''),
          })
        : transferState
          ? this.t(`transfer.${transferState}`)
          : ''
    const mute = required<HTMLButtonElement>(root, '#phone-mute')
    mute.setAttribute('aria-pressed', String(snapshot.muted))
    mute.textContent = this.t(snapshot.muted ? 'unmute' : 'mute')
    const hold = required<HTMLButtonElement>(root, '#phone-hold')
    hold.setAttribute('aria-pressed', String(snapshot.held))
    hold.textContent = this.t(snapshot.held ? 'resume' : 'hold')

    // Whom the call is with (after a transfer the server names the new party).
    const party = required<HTMLElement>(root, '#phone-party-line')
    party.hidden = !inCall && snapshot.call !== 'calling' && snapshot.call !== 'ringing'
    if (!party.hidden)
      required<HTMLElement>(party, '#phone-party').textContent = this.#callerLabel(snapshot)

    const incoming = required<HTMLElement>(root, '#phone-incoming')
    incoming.hidden = snapshot.call !== 'incoming'
    if (snapshot.call === 'incoming') {
      required<HTMLElement>(incoming, '#phone-incoming-caller').textContent =
        this.#callerLabel(snapshot)
    }
    const waiting = required<HTMLElement>(root, '#phone-waiting')
    waiting.hidden = !snapshot.waiting
    if (snapshot.waiting)
      required<HTMLElement>(waiting, '#phone-waiting-caller').textContent = this.#callerLabel({
        ...snapshot,
        remote: snapshot.waiting,
      })
    const parked = required<HTMLElement>(root, '#phone-parked')
    parked.hidden = !snapshot.parked
    required<HTMLButtonElement>(parked, '#phone-switch').hidden = !inCall
    if (snapshot.parked)
      required<HTMLElement>(parked, '#phone-parked-caller').textContent = this.#callerLabel({
        ...snapshot,
        remote: snapshot.parked,
      })
    root.dataset.phoneWaiting = snapshot.waiting ? 'knocking' : ''
    root.dataset.phoneParked = snapshot.parked ? 'held' : ''
    this.#renderEncryption(inCall ? (snapshot.encryption ?? null) : null)
    this.#renderTimer(snapshot)
  }

  /**
   * The lock: "Ende-zu-Ende verschlüsselt" with the code both people compare by voice, the key
   * exchange under way, or "transportverschlüsselt" (with a warning when E2EE was due and failed).
   * data-phone-encryption and -code mirror it for the browser tests.
   */
  #renderEncryption(encryption: EncryptionStatus | null): void {
    const root = this.#root
    const line = required<HTMLElement>(root, '#phone-encryption')
    const code = required<HTMLElement>(root, '#phone-encryption-code')
    const failed = required<HTMLElement>(root, '#phone-encryption-failed')
    root.dataset.phoneEncryption = encryption?.state ?? ''
    root.dataset.phoneEncryptionCode = encryption?.code ?? ''
    root.dataset.phoneEncryptionFailure = encryption?.failure ?? ''
    line.hidden = encryption === null
    line.dataset.state = encryption?.state ?? ''
    required<HTMLElement>(line, '#phone-encryption-label').textContent = encryption
      ? this.t(`encryption.${encryption.state}`)
      : ''
    line.title =
      encryption?.state === 'e2ee'
        ? this.t('encryption.e2ee_hint')
        : encryption?.state === 'transport'
          ? this.t('encryption.transport_hint')
          : ''
    code.hidden = !encryption?.code
    code.textContent = encryption?.code ? this.t('encryption.code', { code: encryption.code }) : ''
    // A refusal by the server only means the peer is no browser; anything else is worth a word.
    const warning =
      encryption?.failure && encryption.failure !== 'refused' ? encryption.failure : null
    failed.hidden = warning === null
    failed.textContent = warning
      ? this.t(warning === 'mismatch' ? 'encryption.mismatch' : 'encryption.failed')
      : ''
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
    const number = remote?.number ? displayNumber(remote.number) : this.t('notification.withheld')
    return remote?.displayName ? `${remote.displayName} (${number})` : number
  }

  /** A failure stays shown, with its reason in words, until dismissed or the next call starts. */
  #showOutcome(snapshot: PhoneSnapshot): void {
    this.#outcomeShown = true
    if (this.#outcomeTimer) clearTimeout(this.#outcomeTimer)
    this.#outcomeTimer = null
    const outcome = snapshot.outcome
    if (!outcome || outcome === 'ended') {
      this.#outcomeTimer = setTimeout(() => this.#dismissOutcome(), ENDED_SHOWN_MS)
      return
    }
    const failed: FailedCall = {
      outcome,
      status: snapshot.lastStatus,
      phrase: snapshot.lastReason,
      dialled: snapshot.direction === 'outbound' ? (snapshot.remote?.number ?? null) : null,
    }
    const { reason, emergency } = outcomeReason(failed)
    const words = this.t(reason.key, reason.values)
      .replace(/\(\s*\)/, '')
      .replace(/\s+\)/, ')')
    const box = required<HTMLElement>(this.#root, '#phone-outcome')
    box.dataset.reason = reason.key
    box.dataset.emergency = String(emergency !== null)
    required<HTMLElement>(box, '#phone-outcome-text').textContent = emergency
      ? this.t('reason.emergency', { number: emergency, reason: words })
      : words
    box.hidden = false
  }

  #hideOutcome(): void {
    this.#outcomeShown = false
    if (this.#outcomeTimer) clearTimeout(this.#outcomeTimer)
    this.#outcomeTimer = null
    required<HTMLElement>(this.#root, '#phone-outcome').hidden = true
  }

  #dismissOutcome(): void {
    this.#hideOutcome()
    this.#render()
  }

  // Input

  #bind(): void {
    const root = this.#root
    const form = required<HTMLFormElement>(root, '#phone-dial-form')
    const number = required<HTMLInputElement>(root, '#phone-number')
    // Browsers play audio only after a user gesture: the first click unlocks the ringtone.
    root.ownerDocument.addEventListener('click', () => this.#tones.unlock(), { once: true })
    const dnd = required<HTMLInputElement>(root, '#phone-dnd')
    dnd.addEventListener('change', () => void this.#toggleDoNotDisturb(dnd))

    form.addEventListener('submit', (event) => {
      event.preventDefault()
      void this.#dial()
    })
    number.addEventListener('input', () => this.#showNumberError(null))
    required<HTMLElement>(root, '#phone-dialpad').addEventListener('click', (event) => {
      const key = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-key]')
        ?.dataset.key
      if (!key) return
      if (this.#snapshot?.call === 'in-call') {
        this.#controls?.sendDtmf(key)
      } else {
        number.value += key
        number.focus()
      }
    })
    required<HTMLButtonElement>(root, '#phone-hangup').addEventListener(
      'click',
      () => void this.#controls?.hangUp()
    )
    required<HTMLButtonElement>(root, '#phone-waiting-accept').addEventListener(
      'click',
      () => void this.#controls?.acceptWaiting()
    )
    required<HTMLButtonElement>(root, '#phone-waiting-reject').addEventListener(
      'click',
      () => void this.#controls?.rejectWaiting()
    )
    required<HTMLButtonElement>(root, '#phone-switch').addEventListener(
      'click',
      () => void this.#controls?.switchCalls()
    )
    required<HTMLButtonElement>(root, '#phone-accept').addEventListener(
      'click',
      () => void this.#controls?.accept()
    )
    required<HTMLButtonElement>(root, '#phone-reject').addEventListener(
      'click',
      () => void this.#controls?.reject()
    )
    required<HTMLButtonElement>(root, '#phone-mute').addEventListener('click', () =>
      this.#controls?.setMuted(!this.#snapshot?.muted)
    )
    required<HTMLButtonElement>(root, '#phone-hold').addEventListener(
      'click',
      () => void this.#controls?.setHeld(!this.#snapshot?.held)
    )
    required<HTMLButtonElement>(root, '#phone-transfer').addEventListener(
      'click',
      () => void this.#transfer()
    )
    required<HTMLButtonElement>(root, '#phone-consult').addEventListener(
      'click',
      () => void this.#consult()
    )
    required<HTMLButtonElement>(root, '#phone-consult-connect').addEventListener(
      'click',
      () => void this.#controls?.connectConsultation()
    )
    required<HTMLButtonElement>(root, '#phone-consult-back').addEventListener(
      'click',
      () => void this.#controls?.cancelConsultation()
    )
    required<HTMLButtonElement>(root, '#phone-outcome-dismiss').addEventListener('click', () =>
      this.#dismissOutcome()
    )
    required<HTMLSelectElement>(root, '#phone-microphone').addEventListener('change', (event) => {
      void this.#devices.chooseMicrophone(
        (event.target as HTMLSelectElement).value,
        this.#controls?.peerConnection
      )
    })
    required<HTMLSelectElement>(root, '#phone-speaker').addEventListener('change', (event) => {
      const id = (event.target as HTMLSelectElement).value
      void this.#devices.chooseSpeaker(id, [this.#audio]).then(() => this.#tones.setSink(id))
    })
    const notifications = required<HTMLButtonElement>(root, '#phone-notifications')
    notifications.hidden =
      typeof Notification === 'undefined' || Notification.permission !== 'default'
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
    await this.#controls?.call(dialled.number, this.#callOptions())
  }

  /** The caller ID and CLIR chosen below the number field. */
  #callOptions(): PlaceCallOptions {
    return {
      callerId: required<HTMLSelectElement>(this.#root, '#phone-caller-id').value || null,
      withhold: required<HTMLInputElement>(this.#root, '#phone-withhold').checked,
    }
  }

  /** Transfers the running call to the number or extension typed into the number field. */
  async #transfer(): Promise<void> {
    const target = this.#transferTarget()
    if (target) await this.#controls?.transfer(target)
  }

  /** Puts the running call on hold and calls the number or extension typed into the number field. */
  async #consult(): Promise<void> {
    const target = this.#transferTarget()
    if (target) await this.#controls?.consult(target, this.#callOptions())
  }

  /** The extension or number to hand a call to, from the number field; null after showing why not. */
  #transferTarget(): string | null {
    const input = required<HTMLInputElement>(this.#root, '#phone-number')
    if (!input.value.trim()) {
      this.#showNumberError(this.t('transfer.needs_number'))
      input.focus()
      return null
    }
    const dialled = normaliseDialled(input.value, this.#defaultCountry, [])
    if (!dialled.ok) {
      this.#showNumberError(this.t('error.invalid_number'))
      return null
    }
    input.value = dialled.number
    this.#showNumberError(null)
    return dialled.number
  }

  #showNumberError(message: string | null): void {
    const error = required<HTMLElement>(this.#root, '#phone-number-error')
    const input = required<HTMLInputElement>(this.#root, '#phone-number')
    error.hidden = message === null
    error.textContent = message ?? ''
    input.setAttribute('aria-invalid', String(message !== null))
    required<HTMLElement>(this.#root, '#phone-number-field').classList.toggle(
      'has-error',
      message !== null
    )
  }

  async #fillDeviceLists(): Promise<void> {
    const { microphones, speakers } = await this.#devices
      .list()
      .catch(() => ({ microphones: [], speakers: [] }))
    const fill = (
      select: HTMLSelectElement,
      choices: Array<{ id: string; label: string }>,
      chosen: string
    ) => {
      select.replaceChildren(new Option(this.t('device.default'), ''))
      for (const choice of choices)
        select.append(new Option(choice.label, choice.id, false, choice.id === chosen))
      select.value = choices.some((choice) => choice.id === chosen) ? chosen : ''
    }
    fill(
      required<HTMLSelectElement>(this.#root, '#phone-microphone'),
      microphones,
      this.#devices.microphoneId
    )
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
