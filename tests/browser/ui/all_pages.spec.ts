import { test } from '@japa/runner'
import { PageTour } from '#tests/support/page_tour'

/**
 * One walk over every page (four logged-in browser contexts, both languages, 1,280 and 390 px)
 * serves both tests: each page is loaded once per language. Either test runs the walk when it
 * runs alone.
 */
test.group('Every page', (group) => {
  let tour: PageTour | null = null
  group.teardown(async () => {
    await tour?.close()
  })

  test('every page, in German and English, shows words: no missing translation and no template syntax', async ({
    browser,
    assert,
  }) => {
    tour ??= await PageTour.start(browser)
    assert.deepEqual(tour.uncovered(), [], 'pages the tour does not visit yet')
    const { words } = await tour.walk()
    assert.deepEqual(words, [])
  }).timeout(10 * 60_000) // a ceiling for a shared, loaded machine; the walk takes about a minute alone

  test('every page fits a 1,280 px and a 390 px wide screen in both languages (no sideways scrolling, nothing sticks out of its card, at 1,280 px no table scrolls)', async ({
    browser,
    assert,
  }) => {
    tour ??= await PageTour.start(browser)
    const { layout } = await tour.walk()
    assert.deepEqual(layout, [])
  }).timeout(10 * 60_000)
})
