import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * Call quality per call (issue 18): for the audio from each side as the media engine received it,
 * the loss in percent, the interarrival jitter (ms), the round-trip time from RTCP (ms; null when
 * the peer sends no reports) and a MOS estimate (E-model); `quality_mos` is the worse side's, for
 * the staff history's "bad calls first". All null when unknown (no audio, calls before this).
 */
const SIDES = ['caller', 'callee'] as const

export default class extends BaseSchema {
  async up() {
    this.schema.alterTable('call_records', (table) => {
      for (const side of SIDES) {
        table.float(`${side}_loss_percent`).nullable()
        table.float(`${side}_jitter_ms`).nullable()
        table.float(`${side}_rtt_ms`).nullable()
        table.float(`${side}_mos`).nullable()
      }
      table.float('quality_mos').nullable()
      table.index(['quality_mos'], 'call_records_quality_mos_index')
    })
  }

  async down() {
    this.schema.alterTable('call_records', (table) => {
      table.dropIndex(['quality_mos'], 'call_records_quality_mos_index')
      table.dropColumn('quality_mos')
      for (const side of SIDES) {
        table.dropColumn(`${side}_mos`)
        table.dropColumn(`${side}_rtt_ms`)
        table.dropColumn(`${side}_jitter_ms`)
        table.dropColumn(`${side}_loss_percent`)
      }
    })
  }
}
