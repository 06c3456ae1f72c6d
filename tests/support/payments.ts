import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import type Company from '#accounts/models/company'
import PaymentMethod, { type MandateScheme } from '#billing/payments/models/payment_method'
import PayableLedger from '#billing/payments/services/payable_ledger'
import PaymentDetailsService from '#billing/payments/services/payment_details_service'

let sequence = 0

/** A payable as the invoice model will register it (tests create them directly). */
export async function makePayable(
  company: Company,
  grossCents: number,
  issuedOn: string,
  dueOn?: string,
  invoiceNumber?: string
) {
  sequence += 1
  return new PayableLedger().register({
    invoiceNumber: invoiceNumber ?? `T-${Date.now().toString(36)}-${sequence}`,
    companyId: company.id,
    grossCents,
    currency: 'EUR',
    issuedOn: DateTime.fromISO(issuedOn, { zone: 'utc' }),
    dueOn: DateTime.fromISO(dueOn ?? issuedOn, { zone: 'utc' }).plus(dueOn ? {} : { days: 14 }),
  })
}

/** A signed mandate stored as the customer form stores it. */
export async function giveMandate(
  company: Company,
  iban: string,
  scheme: MandateScheme = 'CORE',
  bic: string | null = null
) {
  const details = new PaymentDetailsService()
  return PaymentMethod.updateOrCreate(
    { companyId: company.id },
    {
      method: 'sepa_debit',
      mandateSealed: details.seal({ accountHolder: company.legalName, iban, bic }),
      mandateReference: await details.newReference(company.id),
      mandateSignedOn: DateTime.fromISO('2026-10-01', { zone: 'utc' }),
      mandateScheme: scheme,
    }
  )
}

/**
 * Validates XML against an XSD with xmllint (Debian's libxml2-utils, installed by bin/lib.sh's
 * ensure_test_tools). Fails with a message naming the package when xmllint is missing.
 */
export function validateWithXsd(xml: string, xsd: string) {
  const which = spawnSync('xmllint', ['--version'])
  if (which.error)
    throw new Error(
      'xmllint is missing: apt-get install libxml2-utils (bin/lib.sh ensure_test_tools does it)'
    )
  const dir = mkdtempSync(join(tmpdir(), 'pain008-'))
  try {
    const file = join(dir, 'document.xml')
    writeFileSync(file, xml)
    const result = spawnSync('xmllint', ['--noout', '--schema', app.makePath(xsd), file], {
      encoding: 'utf8',
    })
    return { valid: result.status === 0, output: `${result.stdout}${result.stderr}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
