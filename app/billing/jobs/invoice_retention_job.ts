import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import type { Job } from '#core/queue/types'
import { lastExpiredYear } from '#billing/retention'

export interface InvoiceRetentionPayload {
  /** ISO time to decide against (tests); now otherwise. */
  now?: string
}

/**
 * Deletes invoices, their lines and issued documents once their 8 years from the end of the year
 * of issue are over (app/billing/retention.ts). The only deleter of invoices: it declares itself to
 * the PostgreSQL trigger (0611) with a transaction-local setting. An invoice still referred to by a
 * younger one (its Stornorechnung of the next year) waits for it.
 */
export default class InvoiceRetentionJob implements Job<InvoiceRetentionPayload> {
  readonly name = 'billing.invoice_retention'

  async handle(payload: InvoiceRetentionPayload = {}) {
    const now = payload.now ? DateTime.fromISO(payload.now) : DateTime.utc()
    const cutoff = `${lastExpiredYear('invoices', now)}-12-31`
    const deleted = await db.transaction(async (trx) => {
      if (trx.dialect.name === 'postgres')
        await trx.rawQuery("set local fluffycall.invoice_purge = 'on'")
      const expired = new Set(
        (await trx.from('invoices').where('issue_date', '<=', cutoff).select('id')).map((row) =>
          Number(row.id)
        )
      )
      const keptByYounger = await trx
        .from('invoices')
        .where('issue_date', '>', cutoff)
        .whereNotNull('preceding_invoice_id')
        .select('preceding_invoice_id')
      for (const row of keptByYounger) expired.delete(Number(row.preceding_invoice_id))
      const ids = [...expired]
      if (!ids.length) return 0
      await trx.from('invoice_documents').whereIn('invoice_id', ids).delete()
      await trx.from('invoice_lines').whereIn('invoice_id', ids).delete()
      // Followers first: a cancellation refers to the invoice it cancels
      await trx.from('invoices').whereIn('id', ids).whereNotNull('preceding_invoice_id').delete()
      await trx.from('invoices').whereIn('id', ids).delete()
      return ids.length
    })
    if (deleted) logger.info({ deleted }, 'billing: invoices past their retention period deleted')
  }
}
