import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import InformationRequestRetentionJob from '#privacy/jobs/information_request_retention_job'
import InformationRequest from '#privacy/models/information_request'
import { INFORMATION_REQUEST_RETENTION_MONTHS } from '#privacy/personal_data'

async function request(
  status: 'open' | 'answered',
  createdAt: DateTime,
  handledAt: DateTime | null
) {
  const row = await InformationRequest.create({
    requesterName: 'Erika Musterfrau',
    requesterEmail: `erika-${Math.random().toString(36).slice(2)}@example.test`,
    organisation: null,
    topic: 'toms',
    message: 'Bitte senden Sie uns die TOMs.',
    locale: 'de',
    status,
    handledById: null,
    handledAt,
  })
  // Explicit timestamps: the model sets created_at itself
  row.createdAt = createdAt
  await row.save()
  return row.id
}

test.group('InformationRequestRetentionJob', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('deletes requests answered longer ago than the declared retention; keeps younger and open ones', async ({
    assert,
  }) => {
    assert.equal(INFORMATION_REQUEST_RETENTION_MONTHS, 12)
    const now = DateTime.utc()
    const expired = await request('answered', now.minus({ months: 14 }), now.minus({ months: 13 }))
    const recent = await request('answered', now.minus({ months: 14 }), now.minus({ months: 11 }))
    const openOld = await request('open', now.minus({ months: 20 }), null)
    const fresh = await request('open', now, null)

    await new InformationRequestRetentionJob().handle()

    assert.isNull(await InformationRequest.find(expired))
    assert.isNotNull(await InformationRequest.find(recent), 'answered 11 months ago: kept')
    assert.isNotNull(
      await InformationRequest.find(openOld),
      'open requests are still owed an answer'
    )
    assert.isNotNull(await InformationRequest.find(fresh))
  })
})
