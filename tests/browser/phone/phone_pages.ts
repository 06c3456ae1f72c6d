import type { Browser, Page } from 'playwright-core'
import { loginThroughForm } from '#tests/support/browser'

/** The docked web phone's root element: its data attributes tell the phone's state. */
export const PHONE = '#web-phone'

/** A logged-in user's phone page in its own browser context (German, microphone allowed). */
export async function openPhone(browser: Browser, email: string): Promise<Page> {
  const context = await browser.newContext({
    baseURL: `http://${process.env.HOST}:${process.env.PORT}`,
    locale: 'de-DE',
    permissions: ['microphone'],
  })
  const page = await context.newPage()
  await loginThroughForm(page, email)
  await page.goto('/app/phone')
  await page.waitForSelector(`${PHONE}[data-phone-registration="registered"]`, { timeout: 15_000 })
  return page
}

/** Waits until the phone shows `state`; the error tells the state it shows instead. */
export async function inState(page: Page, state: string, timeout = 15_000) {
  try {
    await page.waitForSelector(`${PHONE}[data-phone-state="${state}"]`, { timeout })
  } catch (error) {
    const seen = await page.evaluate(() => {
      const root = (globalThis as any).document.querySelector('#web-phone')
      return JSON.stringify({ ...root?.dataset, texts: undefined })
    })
    throw new Error(`the phone did not reach "${state}": ${seen}`, { cause: error })
  }
}

/** The browser's own RTP counters and codec (getStats on the web phone's RTCPeerConnection). */
export async function rtp(page: Page) {
  return page.evaluate(async () => {
    const connection = (globalThis as any).__phone?.peerConnection
    if (!connection) return { received: -1, sent: -1, codec: '' }
    let received = 0
    let sent = 0
    let codec = ''
    const stats = await connection.getStats()
    stats.forEach((report: any) => {
      if (report.type === 'inbound-rtp' && report.kind === 'audio') {
        received = report.packetsReceived
        codec = stats.get(report.codecId)?.mimeType ?? ''
      }
      if (report.type === 'outbound-rtp' && report.kind === 'audio') sent = report.packetsSent
    })
    return { received, sent, codec }
  })
}
