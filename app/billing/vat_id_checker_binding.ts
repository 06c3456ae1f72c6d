import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { ApprovedFormatVatIdChecker, type VatIdChecker } from '#billing/vat_id_checker'

/**
 * The VAT ID checker the app uses: bound in the container as 'billing.vat_ids' (tests swap in the
 * fake). Until a VIES/BZSt client is configured, a number counts when staff approved its company.
 */
export async function vatIdChecker(): Promise<VatIdChecker> {
  if (app.container.hasBinding('billing.vat_ids'))
    return app.container.make('billing.vat_ids') as Promise<VatIdChecker>
  const approved = await db
    .from('companies')
    .whereNotNull('approved_at')
    .whereNotNull('vat_id')
    .select('vat_id')
  const ids = new Set(
    approved.map((row) =>
      String(row.vat_id)
        .replace(/[\s.\-]/g, '')
        .toUpperCase()
    )
  )
  return new ApprovedFormatVatIdChecker((vatId) => ids.has(vatId))
}
