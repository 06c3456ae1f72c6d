import type { Browser, Page } from 'playwright-core'
import { Created, loginThroughForm } from '#tests/support/browser'
import { forgetPhoneUsers, startB2bua } from '#tests/support/calls'
import type { Group } from '@japa/runner/core'

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

/**
 * What the browser's audio receiver decoded (getStats inbound-rtp): total audio energy, samples
 * received and how many of them the decoder concealed (made up for lost or undecodable packets).
 */
export async function audioIn(page: Page) {
  return page.evaluate(async () => {
    const connection = (globalThis as any).__phone?.peerConnection
    const seen = { energy: 0, samples: 0, concealed: 0, packets: 0 }
    if (!connection) return seen
    const stats = await connection.getStats()
    stats.forEach((report: any) => {
      if (report.type !== 'inbound-rtp' || report.kind !== 'audio') return
      seen.energy = report.totalAudioEnergy ?? 0
      seen.samples = report.totalSamplesReceived ?? 0
      seen.concealed = report.concealedSamples ?? 0
      seen.packets = report.packetsReceived ?? 0
    })
    return seen
  })
}

/**
 * Listens to what the phone plays (its remote stream, through Web Audio) for `ms` and returns the
 * strongest frequency and how far it stands above the median of the spectrum: a tone stands out
 * by tens of dB, noise and silence do not.
 */
export async function toneIn(page: Page, ms = 1500) {
  return page.evaluate(async (duration) => {
    const g = globalThis as any
    const stream = g.document.querySelector('#phone-remote-audio')?.srcObject
    if (!stream) return { peakHz: 0, toneDb: 0, levelDb: -Infinity }
    const context = new g.AudioContext()
    await context.resume()
    const analyser = context.createAnalyser()
    analyser.fftSize = 4096
    analyser.smoothingTimeConstant = 0
    context.createMediaStreamSource(stream).connect(analyser)
    const power = new Float64Array(analyser.frequencyBinCount)
    const frame = new Float32Array(analyser.frequencyBinCount)
    const end = Date.now() + duration
    while (Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      analyser.getFloatFrequencyData(frame)
      for (let bin = 0; bin < frame.length; bin++) power[bin] += 10 ** (frame[bin] / 10)
    }
    await context.close()
    // Telephone band only (the fake microphone's tone lies in it).
    const binHz = context.sampleRate / analyser.fftSize
    const band = Array.from(power.slice(Math.ceil(100 / binHz), Math.floor(4000 / binHz)))
    let peak = 0
    for (let bin = 1; bin < band.length; bin++) if (band[bin] > band[peak]) peak = bin
    const median = [...band].sort((a, b) => a - b)[Math.floor(band.length / 2)]
    return {
      peakHz: Math.round((peak + Math.ceil(100 / binHz)) * binHz),
      toneDb: 10 * Math.log10(band[peak] / Math.max(median, 1e-30)),
      levelDb: 10 * Math.log10(band[peak] / Math.max(1, (duration / 50) | 0)),
    }
  }, ms)
}

/** The lock as the phone shows it: e2ee, exchanging or transport, the code, a failure. */
export async function encryptionShown(page: Page) {
  return page.evaluate(() => {
    const root = (globalThis as any).document.querySelector('#web-phone')
    return {
      state: root.dataset.phoneEncryption as string,
      code: root.dataset.phoneEncryptionCode as string,
      failure: root.dataset.phoneEncryptionFailure as string,
      label: (root.querySelector('#phone-encryption') as any)?.innerText?.trim() ?? '',
    }
  })
}

/**
 * What every web phone test group shares: the B2BUA of the test process started once; after each
 * test its cleanups run (last first), its users' phones are forgotten and what it created is
 * removed.
 */
export function webPhoneGroup(group: Group) {
  const created = new Created()
  const cleanups: Array<() => unknown> = []
  const userIds: number[] = []
  group.setup(async () => {
    await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    await forgetPhoneUsers(userIds)
    await created.cleanup()
  })
  return { created, cleanups, userIds }
}
