/*
 * In-place navigation for the customer area, so that the docked phone (and its call) survives
 * moving around the app: same-origin link clicks and form submits inside the page are fetched and
 * only <main> (plus title and top navigation) is swapped; history follows with pushState and
 * popstate. Anything else falls back to a full page load: other areas (login, admin, public
 * pages), downloads, non-HTML answers, network errors. Strict CSP holds: nothing is evaluated,
 * page scripts are re-inserted as script elements of our own origin.
 */

export interface InPlaceNavigationOptions {
  /** The body class of the pages that load in place (area-customer); others are loaded in full. */
  area: string
}

/** Dispatched on document after each in-place load: page scripts bind their DOM again here (a module runs once). */
export const PAGE_LOAD_EVENT = 'fluffycall:page-load'

const MAIN = '#page-main'

function sameOrigin(url: URL): boolean {
  return url.origin === location.origin
}

export class InPlaceNavigation {
  readonly #options: InPlaceNavigationOptions
  #pending: AbortController | null = null

  constructor(options: InPlaceNavigationOptions) {
    this.#options = options
  }

  start(): void {
    history.replaceState({ inPlace: true }, '', location.href)
    document.addEventListener('click', (event) => this.#click(event))
    document.addEventListener('submit', (event) => this.#submit(event))
    window.addEventListener('popstate', (event) => {
      if ((event.state as { inPlace?: boolean } | null)?.inPlace)
        void this.#go(new URL(location.href), {}, false)
    })
  }

  #click(event: MouseEvent): void {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return
    const link = (event.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null
    if (!link || !link.closest(`${MAIN}, .topnav, .topbar > .brand`)) return
    if ((link.target && link.target !== '_self') || link.hasAttribute('download')) return
    const url = new URL(link.href)
    if (!sameOrigin(url) || url.protocol !== location.protocol) return
    // A jump within this page stays the browser's.
    if (url.hash && url.pathname === location.pathname && url.search === location.search) return
    event.preventDefault()
    void this.#go(url, {}, true)
  }

  #submit(event: SubmitEvent): void {
    if (event.defaultPrevented) return
    const form = event.target as HTMLFormElement
    if (!form.closest(MAIN) || form.target) return
    const submitter = event.submitter as HTMLButtonElement | HTMLInputElement | null
    const method = (
      submitter?.getAttribute('formmethod') ??
      form.getAttribute('method') ??
      'get'
    ).toLowerCase()
    const url = new URL(submitter?.getAttribute('formaction') ? submitter.formAction : form.action)
    if (!sameOrigin(url) || (method !== 'get' && method !== 'post')) return
    event.preventDefault()
    const data = new FormData(form, submitter)
    if (method === 'get') {
      url.search = new URLSearchParams(data as unknown as Record<string, string>).toString()
      void this.#go(url, {}, true)
      return
    }
    const multipart = (form.getAttribute('enctype') ?? '').toLowerCase() === 'multipart/form-data'
    const body = multipart ? data : new URLSearchParams(data as unknown as Record<string, string>)
    void this.#go(url, { method: 'POST', body }, true, () => {
      // A submit that cannot be shown in place is sent again the ordinary way.
      HTMLFormElement.prototype.submit.call(form)
    })
  }

  async #go(
    url: URL,
    init: RequestInit,
    push: boolean,
    fallback = () => location.assign(url.href)
  ): Promise<void> {
    this.#pending?.abort()
    const pending = new AbortController()
    this.#pending = pending
    document.documentElement.setAttribute('aria-busy', 'true')
    let response: Response
    try {
      response = await fetch(url.href, {
        ...init,
        credentials: 'same-origin',
        headers: { Accept: 'text/html' },
        signal: pending.signal,
      })
    } catch (error) {
      if (pending.signal.aborted) return
      fallback()
      return
    } finally {
      if (this.#pending === pending) document.documentElement.removeAttribute('aria-busy')
    }
    const type = response.headers.get('content-type') ?? ''
    if (!type.includes('text/html')) {
      if (init.method === 'POST') location.assign(response.url)
      else fallback()
      return
    }
    const html = await response.text()
    if (pending.signal.aborted) return
    const next = new DOMParser().parseFromString(html, 'text/html')
    const final = new URL(response.url)
    final.hash = url.hash
    if (!next.querySelector(MAIN) || !next.body.classList.contains(this.#options.area)) {
      // Another area (the login page after a logout, public pages, an error page): a full load.
      location.assign(final.href)
      return
    }
    this.#swap(next)
    if (push) history.pushState({ inPlace: true }, '', final.href)
    document.dispatchEvent(new CustomEvent(PAGE_LOAD_EVENT, { detail: { url: final.href } }))
  }

  #swap(next: Document): void {
    document.title = next.title
    document.documentElement.lang = next.documentElement.lang
    const main = document.querySelector(MAIN)!
    const incoming = document.adoptNode(next.querySelector(MAIN)!)
    this.#revive(incoming)
    main.replaceWith(incoming)
    const nav = document.querySelector('.topnav')
    const nextNav = next.querySelector('.topnav')
    if (nav && nextNav) nav.replaceWith(document.adoptNode(nextNav))
    const heading = incoming.querySelector<HTMLElement>('h1')
    if (heading) {
      heading.tabIndex = -1
      heading.focus({ preventScroll: true })
    }
    window.scrollTo(0, 0)
  }

  /** Parsed scripts never run; re-created ones of our own origin do (modules once per URL). */
  #revive(root: Element): void {
    for (const old of root.querySelectorAll('script')) {
      const script = document.createElement('script')
      for (const attribute of old.attributes) script.setAttribute(attribute.name, attribute.value)
      script.textContent = old.textContent
      old.replaceWith(script)
    }
  }
}
