import QRCode from 'qrcode'
import { centsToDecimal } from '#billing/payments/sepa_amount'
import type { Payable } from '#billing/payments/payable'

/**
 * The SEPA payment QR code ("GiroCode", EPC069-12 "Quick Response Code: Guidelines to Enable Data
 * Capture for the Initiation of a SEPA Credit Transfer", version 002): twelve lines separated by
 * LF, at most 331 bytes, UTF-8, error correction level M. Banking apps read it into a credit
 * transfer form; it carries nothing the invoice does not print anyway.
 */
export interface GiroCodeCreditor {
  name: string
  iban: string
  bic?: string | null
}

export const GIROCODE_MAX_BYTES = 331

/** Characters outside what banks accept in SEPA texts are replaced; line breaks would break the format. */
function text(value: string, max: number) {
  return value
    .replace(/[\r\n]+/g, ' ')
    .trim()
    .slice(0, max)
}

export function giroCodePayload(
  payable: Pick<Payable, 'invoiceNumber' | 'grossCents' | 'currency'>,
  creditor: GiroCodeCreditor
) {
  if (payable.currency !== 'EUR') throw new RangeError('a GiroCode carries euro amounts only')
  if (payable.grossCents < 1 || payable.grossCents > 99_999_999_999)
    throw new RangeError('GiroCode amounts are EUR 0.01 to 999999999.99')
  const lines = [
    'BCD', // service tag
    '002', // version (BIC optional within the EEA)
    '1', // character set: UTF-8
    'SCT', // SEPA credit transfer
    creditor.bic ?? '',
    text(creditor.name, 70),
    creditor.iban.replace(/\s+/g, '').toUpperCase(),
    `EUR${centsToDecimal(payable.grossCents)}`,
    '', // purpose code
    '', // structured creditor reference (RF); the unstructured text is used instead
    text(`Rechnung ${payable.invoiceNumber}`, 140),
    '', // beneficiary to originator information
  ]
  const payload = lines.join('\n').replace(/\n+$/, '')
  if (Buffer.byteLength(payload, 'utf8') > GIROCODE_MAX_BYTES)
    throw new RangeError('GiroCode payload longer than 331 bytes')
  return payload
}

/** The fields of a payload, by their EPC069-12 names (for tests and for checking a scanned code). */
export function parseGiroCode(payload: string) {
  const [
    serviceTag,
    version,
    characterSet,
    identification,
    bic,
    name,
    iban,
    amount,
    purpose,
    reference,
    remittance,
    information,
  ] = payload.split('\n').concat(Array(12).fill(''))
  return {
    serviceTag,
    version,
    characterSet,
    identification,
    bic,
    name,
    iban,
    amount,
    purpose,
    reference,
    remittance,
    information,
  }
}

/** The payable's GiroCode as SVG markup (for the invoice PDF and pages). */
export async function giroCodeSvg(
  payable: Pick<Payable, 'invoiceNumber' | 'grossCents' | 'currency'>,
  creditor: GiroCodeCreditor
) {
  const payload = giroCodePayload(payable, creditor)
  const svg = await QRCode.toString(payload, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 })
  return { payload, svg }
}
