import app from '@adonisjs/core/services/app'
import type CallRecord from '#calls/models/call_record'

/** call:ended: the call's concurrent-call lease is released (on whichever node ended it), its accrued cost stops. */
export default class ReleaseCallLease {
  async handle({ record }: { record: CallRecord }) {
    if (record.direction !== 'outbound' || record.emergency) return
    ;(await app.container.make('fraud.spend')).ended(record.uuid)
    const leases = await app.container.make('fraud.leases')
    await leases.release(record.uuid)
  }
}
