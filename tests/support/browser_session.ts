import { generate } from 'otplib'
import env from '#start/env'
import type User from '#accounts/models/user'
import type { WebPhoneLogin } from '#calls/services/web_phone_credential_service'
import { TEST_PASSWORD } from '#tests/support/accounts'

const BASE_URL = `http://${env.get('HOST')}:${env.get('PORT')}`

/**
 * A browser's view of the app: one session cookie across requests, CSRF token from the pages.
 * The session API client starts a new session for every request; tests whose requests must share
 * one session (log in, act, log out, reuse a copied cookie) use this cookie jar over fetch.
 */
export class BrowserSession {
  #cookies = new Map<string, string>()
  csrfToken = ''

  constructor(private readonly userAgent?: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    headers.set('cookie', [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; '))
    if (this.userAgent) headers.set('user-agent', this.userAgent)
    const response = await fetch(BASE_URL + path, { ...init, headers, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const separator = pair.indexOf('=')
      this.#cookies.set(pair.slice(0, separator), pair.slice(separator + 1))
    }
    return response
  }

  /** The raw value of a cookie as the browser holds it. */
  cookie(name: string): string | undefined {
    return this.#cookies.get(name)
  }

  /** An attacker's copy of this browser's cookies as they are now (later changes are not shared). */
  copy(userAgent?: string): BrowserSession {
    const copied = new BrowserSession(userAgent ?? this.userAgent)
    for (const [name, value] of this.#cookies) copied.#cookies.set(name, value)
    copied.csrfToken = this.csrfToken
    return copied
  }

  /** Opens a page and keeps the CSRF token of its forms (or of the phone page's script). */
  async page(path: string): Promise<{ status: number; location: string | null; html: string }> {
    const response = await this.request(path)
    const html = await response.text()
    const token =
      /name='_csrf' value='([^']+)'/.exec(html)?.[1] ?? /data-csrf-token="([^"]+)"/.exec(html)?.[1]
    if (token) this.csrfToken = token
    return { status: response.status, location: response.headers.get('location'), html }
  }

  /**
   * Logs in through the form (and the second step with a TOTP code when `totpSecret` is given) and
   * reads the CSRF token of the landing page: the phone page for customers, the security page for staff.
   */
  async logIn(user: User, options: { password?: string; totpSecret?: string } = {}): Promise<this> {
    const form = await (await this.request('/login')).text()
    const csrf = /name='_csrf' value='([^']+)'/.exec(form)?.[1]
    if (!csrf) throw new Error('no CSRF field on the login page')
    const login = await this.request('/login', {
      method: 'POST',
      body: new URLSearchParams({
        email: user.email,
        password: options.password ?? TEST_PASSWORD,
        _csrf: csrf,
      }),
    })
    let location = login.headers.get('location')
    if (location === '/login/2fa' && options.totpSecret) {
      const challenge = await this.page('/login/2fa')
      if (challenge.status !== 200) throw new Error(`no 2FA challenge: ${challenge.status}`)
      const verify = await this.post('/login/2fa', {
        code: await generate({ secret: options.totpSecret }),
      })
      location = verify.headers.get('location')
    }
    if (location !== '/app' && location !== '/admin')
      throw new Error(`login failed: ${login.status} ${location}`)
    await this.page(location === '/app' ? '/app/phone' : '/account/security')
    return this
  }

  async post(
    path: string,
    form: Record<string, string> = {},
    method: 'POST' | 'PUT' | 'DELETE' = 'POST'
  ): Promise<Response> {
    const query = method === 'POST' ? '' : `${path.includes('?') ? '&' : '?'}_method=${method}`
    return this.request(path + query, {
      method: 'POST',
      headers: { 'x-csrf-token': this.csrfToken },
      body: new URLSearchParams(form),
    })
  }

  async credential(): Promise<Response> {
    return this.request('/app/phone/credential', {
      method: 'POST',
      headers: { 'accept': 'application/json', 'x-csrf-token': this.csrfToken },
    })
  }

  async webPhoneLogin(): Promise<WebPhoneLogin> {
    const response = await this.credential()
    if (response.status !== 200) throw new Error(`credential endpoint answered ${response.status}`)
    return (await response.json()) as WebPhoneLogin
  }
}
