import { randomUUID } from 'node:crypto'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import CallRecord from '#calls/models/call_record'
import {
  Created,
  loginThroughForm,
  passTwoFactor,
  staffWithTwoFactor,
} from '#tests/support/browser'

/**
 * The dashboard's call figures in Chromium: Chart.js (bundled by Vite) draws the three charts, and
 * the refresh every 15 s (driven on the page's fake clock, no real wait) brings a call that failed
 * after the page loaded into the tiles and the causes table; German and English, 1280 and 390 px.
 */
test.group('Admin dashboard: call figures', (group) => {
  const created = new Created()
  const records: number[] = []
  group.each.teardown(async () => {
    await CallRecord.query().whereIn('id', records.splice(0)).delete()
    await created.cleanup()
  })

  test('charts drawn, refreshed with a new failure, readable at 1280 and 390 px in de and en', async ({
    visit,
    assert,
  }) => {
    const { user, secret } = await staffWithTwoFactor(created, 'support')
    const page = await visit('/login')
    await page.clock.install()
    await loginThroughForm(page, user.email)
    await passTwoFactor(page, secret)
    await page.goto('/admin')
    await page.waitForSelector('#call-figures[data-refreshed-at]')

    const drawn = await page.evaluate(() =>
      [...(globalThis as any).document.querySelectorAll('#call-figures canvas')].map(
        (canvas: any) => {
          const document = (globalThis as any).document
          const blank = document.createElement('canvas')
          blank.width = canvas.width
          blank.height = canvas.height
          return canvas.width > 0 && canvas.height > 0 && canvas.toDataURL() !== blank.toDataURL()
        }
      )
    )
    assert.deepEqual(drawn, [true, true, true], 'every chart has drawn something (axes at least)')

    const failedBefore = Number(
      (await page.textContent('[data-figure="failed"]'))!.replace(/\D/g, '')
    )
    const startedAt = DateTime.utc().minus({ minutes: 1 })
    const record = await CallRecord.create({
      uuid: randomUUID(),
      companyId: null,
      userId: null,
      direction: 'outbound',
      emergency: false,
      callerNumber: null,
      calleeNumber: null,
      callerWithheld: false,
      carrierName: null,
      region: 'eu',
      nodeId: 'figures-browser',
      startedAt,
      answeredAt: null,
      endedAt: startedAt.plus({ seconds: 2 }),
      disconnectCause: 'unreachable',
    })
    records.push(record.id)
    const refreshed = await page.getAttribute('#call-figures', 'data-refreshed-at')
    await page.clock.runFor(15_000)
    await page.waitForFunction(
      (before) =>
        (globalThis as any).document
          .querySelector('#call-figures')
          ?.getAttribute('data-refreshed-at') !== before,
      refreshed
    )
    assert.equal(
      Number((await page.textContent('[data-figure="failed"]'))!.replace(/\D/g, '')),
      failedBefore + 1
    )
    await page.assertTextContains('[data-figure="failuresByCause"]', 'nicht erreichbar')

    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 })
      // Chart.js resizes on the next animation frame, which runs on the page's (fake) clock.
      await page.clock.runFor(500)
      const overflow: number = await page.evaluate(
        (screen) => (globalThis as any).document.documentElement.scrollWidth - screen,
        width
      )
      assert.isAtMost(overflow, 0, `no sideways scrolling at ${width} px`)
      const chartWidth: number = await page.evaluate(
        () =>
          (globalThis as any).document
            .querySelector('#chart-calls-per-hour')
            .getBoundingClientRect().width
      )
      assert.isAbove(
        chartWidth,
        width === 390 ? 250 : 300,
        `the chart uses the width at ${width} px`
      )
    }

    await page.goto('/locale/en')
    await page.goto('/admin')
    await page.assertTextContains('#call-figures h2', 'Calls and carriers')
    await page.assertTextContains('[data-figure="failuresByCause"]', 'unreachable')
  })
})
