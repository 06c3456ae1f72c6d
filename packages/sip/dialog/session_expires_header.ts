import type SipMessage from '#sip/message/sip_message'

/** Which side of the refreshing transaction refreshes the session (RFC 4028 4). */
export enum Refresher {
  Uac = 'uac',
  Uas = 'uas',
}

const SESSION_EXPIRES = /^\s*(\d{1,10})\s*((?:;[^;]*)*)$/

/** Session-Expires: delta-seconds with an optional refresher parameter (RFC 4028 4). */
export default class SessionExpiresHeader {
  constructor(
    readonly seconds: number,
    readonly refresher?: Refresher
  ) {}

  /** Lenient on purpose: a peer's malformed value means "no session timer", never an error. */
  static parse(text: string | undefined): SessionExpiresHeader | undefined {
    const match = text === undefined ? null : SESSION_EXPIRES.exec(text)
    if (!match) {
      return undefined
    }
    let refresher: Refresher | undefined
    for (const param of match[2].split(';').slice(1)) {
      const [name, value] = param.split('=').map((part) => part.trim().toLowerCase())
      if (name === 'refresher' && (value === Refresher.Uac || value === Refresher.Uas)) {
        refresher = value
      }
    }
    return new SessionExpiresHeader(Number(match[1]), refresher)
  }

  static from(message: SipMessage): SessionExpiresHeader | undefined {
    return SessionExpiresHeader.parse(message.headers.get('session-expires'))
  }

  toString(): string {
    return this.refresher ? `${this.seconds};refresher=${this.refresher}` : String(this.seconds)
  }
}

/** Min-SE in seconds, or undefined when absent or unreadable (RFC 4028 5). */
export function readMinSessionExpires(message: SipMessage): number | undefined {
  const text = message.headers.get('min-se')?.split(';')[0].trim()
  return text && /^\d{1,10}$/.test(text) ? Number(text) : undefined
}

/** True when a message lists the option tag in Supported or Require. */
export function hasOptionTag(message: SipMessage, tag: string): boolean {
  const lower = tag.toLowerCase()
  return [...message.headers.getAll('supported'), ...message.headers.getAll('require')].some(
    (value) => value.trim().toLowerCase() === lower
  )
}
