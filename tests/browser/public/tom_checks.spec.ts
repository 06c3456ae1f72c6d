import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import MonitorReading from '#core/monitoring/monitor_reading'
import User from '#accounts/models/user'
import { LOCKOUT_CHECK_EMAIL } from '#accounts/monitoring/tom_probes'

/** The TOMs page's live checks at 1280 and 390 px: every check has its row, the page never widens. */
test.group('TOMs page: live checks', () => {
  test('each check shows its result in words at both widths, without widening the page', async ({
    visit,
    assert,
    cleanup,
  }) => {
    cleanup(async () => {
      await MonitorReading.query().where('check_name', 'toms').delete()
      const account = await User.findBy('email', LOCKOUT_CHECK_EMAIL)
      if (account) {
        await db.from('audit_entries').where('actor_id', account.id).update({ actor_id: null })
        await account.delete()
      }
    })
    const monitoring = await app.container.make('monitoring')
    const toms = monitoring.checks.find((check) => check.name === 'toms')!
    await monitoring.read(toms)
    const page = await visit('/transparency/toms')
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 })
      const rows = await page.locator('#tom-checks tbody tr').count()
      assert.equal(rows, 7)
      assert.equal(
        await page.locator('#tom-checks tr[data-check="login_lockout"] .tom-status').innerText(),
        'bestanden'
      )
      const pageWidth = Number(await page.evaluate('document.documentElement.scrollWidth'))
      assert.isAtMost(pageWidth, width, `the page at ${width} px`)
    }
  })
})
