import { XMLParser } from 'fast-xml-parser'
import { RETURN_REASONS, type ReturnReason } from '#billing/payments/return_reasons'

/**
 * Returned SEPA direct debits as the bank reports them, from one of two ISO 20022 messages:
 * - pain.002 (customer payment status report, any version): every TxInfAndSts with TxSts RJCT
 *   names the OrgnlEndToEndId of our debit and a reason (StsRsnInf/Rsn/Cd);
 * - camt.054 (debit/credit notification, any version): every TxDtls with return information
 *   (RtrInf/Rsn/Cd) names the EndToEndId (Refs) of the returned debit.
 * The end-to-end id is ours (sepa_debits.end_to_end_id), so a file names exactly the debits it
 * returns. Reason codes outside the EPC R-transaction list are kept as MS03 (reason not specified)
 * with the bank's code beside it.
 */
export interface ReturnedDebit {
  endToEndId: string
  reason: ReturnReason
  /** The code as the bank sent it (may be outside RETURN_REASONS). */
  bankCode: string | null
  /** The amount named in the file, in cents, when it names one. */
  amountCents: number | null
}

export interface ReturnFile {
  format: 'pain.002' | 'camt.054'
  returns: ReturnedDebit[]
}

export class ReturnFileError extends Error {
  constructor(public code: 'not_xml' | 'unknown_format') {
    super(`not a return file: ${code}`)
  }
}

const LISTS = new Set([
  'OrgnlPmtInfAndSts',
  'TxInfAndSts',
  'StsRsnInf',
  'Ntfctn',
  'Ntry',
  'NtryDtls',
  'TxDtls',
])

type Node = Record<string, unknown>
const list = (value: unknown): Node[] =>
  Array.isArray(value) ? (value as Node[]) : value ? [value as Node] : []
const child = (node: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (current, key) => (current && typeof current === 'object' ? (current as Node)[key] : undefined),
    node
  )
const text = (value: unknown): string | null => {
  if (value === undefined || value === null) return null
  if (typeof value === 'object') return text((value as Node)['#text'])
  return String(value).trim() || null
}

/** "119.00" → 11900; exact on the decimal string, never through a float. */
function cents(value: unknown): number | null {
  const amount = text(value)
  const match = amount?.match(/^(\d+)(?:\.(\d{1,2}))?$/)
  if (!match) return null
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'))
}

function reasonOf(code: string | null): Pick<ReturnedDebit, 'reason' | 'bankCode'> {
  return {
    reason: code && code in RETURN_REASONS ? (code as ReturnReason) : 'MS03',
    bankCode: code,
  }
}

export function parseReturnFile(xml: string): ReturnFile {
  let document: Node
  try {
    document = new XMLParser({
      removeNSPrefix: true,
      ignoreAttributes: false,
      parseTagValue: false,
      isArray: (name) => LISTS.has(name),
    }).parse(xml, true) as Node
  } catch {
    throw new ReturnFileError('not_xml')
  }
  const root = child(document, 'Document') as Node | undefined
  const report = child(root, 'CstmrPmtStsRpt')
  if (report) {
    const returns: ReturnedDebit[] = []
    for (const group of list(child(report, 'OrgnlPmtInfAndSts')))
      for (const transaction of list(child(group, 'TxInfAndSts'))) {
        const endToEndId = text(child(transaction, 'OrgnlEndToEndId'))
        if (!endToEndId || text(child(transaction, 'TxSts')) !== 'RJCT') continue
        const [status] = list(child(transaction, 'StsRsnInf'))
        returns.push({
          endToEndId,
          ...reasonOf(text(child(status, 'Rsn', 'Cd'))),
          amountCents: cents(child(transaction, 'OrgnlTxRef', 'Amt', 'InstdAmt')),
        })
      }
    return { format: 'pain.002', returns }
  }
  const notification = child(root, 'BkToCstmrDbtCdtNtfctn')
  if (notification) {
    const returns: ReturnedDebit[] = []
    for (const statement of list(child(notification, 'Ntfctn')))
      for (const entry of list(child(statement, 'Ntry')))
        for (const details of list(child(entry, 'NtryDtls')))
          for (const transaction of list(child(details, 'TxDtls'))) {
            const info = child(transaction, 'RtrInf')
            const endToEndId = text(child(transaction, 'Refs', 'EndToEndId'))
            if (!info || !endToEndId) continue
            returns.push({
              endToEndId,
              ...reasonOf(text(child(info, 'Rsn', 'Cd'))),
              amountCents:
                cents(child(transaction, 'Amt')) ??
                cents(child(transaction, 'AmtDtls', 'TxAmt', 'Amt')),
            })
          }
    return { format: 'camt.054', returns }
  }
  throw new ReturnFileError('unknown_format')
}
