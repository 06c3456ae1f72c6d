import { test } from '@japa/runner'
import { LANGUAGES, PageTour, RAW_MARKERS } from '#tests/support/page_tour'

test.group('Every page', (group) => {
  let tour: PageTour | null = null
  group.teardown(async () => {
    await tour?.close()
  })

  test('every page, in German and English, shows words: no missing translation and no template syntax', async ({ browser, assert }) => {
    tour ??= await PageTour.start(browser)
    assert.deepEqual(tour.uncovered(), [], 'pages the tour does not visit yet')
    const problems: string[] = []
    for (const language of LANGUAGES) {
      for (const who of tour.contexts.keys()) await tour.speak(who, language)
      for (const stop of tour.stops) {
        const page = await tour.open(stop)
        const lang = await page.getAttribute('html', 'lang')
        if (lang !== language) problems.push(`${stop.who} ${stop.path} [${language}]: html lang is ${lang}`)
        const text = await page.innerText('body')
        for (const marker of RAW_MARKERS) {
          const at = text.indexOf(marker)
          if (at >= 0) problems.push(`${stop.who} ${stop.path} [${language}]: "${text.slice(Math.max(0, at - 40), at + 60).replace(/\s+/g, ' ')}"`)
        }
      }
    }
    assert.deepEqual(problems, [])
  })
})
