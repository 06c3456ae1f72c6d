import WS from 'ws'
import type { SessionDescriptionHandler } from 'sip.js'
import { FakeBrowser } from '#tests/e2e/media/media_peers'

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

  close(): void {
    void this.browser.close()
  }

  async getDescription() {
    if (this.#remoteOffer) {
      const answer = await this.browser.answer(this.#remoteOffer)
      this.#remoteOffer = undefined
      return { body: answer, contentType: 'application/sdp' }
    }
    this.#offered = true
    return { body: await this.browser.offer(), contentType: 'application/sdp' }
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
