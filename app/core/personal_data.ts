/**
 * The shape in which every module declares the personal data it stores (Art. 30 GDPR record).
 * `privacy` collects the declarations for export, erasure, account end and retention; a test
 * compares them with the live database schema.
 */
export type LegalBasis =
  | 'contract' // Art. 6(1)(b)
  | 'legal_obligation' // Art. 6(1)(c), e.g. HGB/AO, TKG
  | 'legitimate_interest' // Art. 6(1)(f), e.g. security, fraud prevention
  | 'consent' // Art. 6(1)(a)

export interface PersonalDataTable {
  table: string
  /** Whose data it is. */
  subject: 'user' | 'company_contact' | 'caller' | 'requester'
  /** Columns holding personal data, with what they are. */
  columns: Record<string, string>
  purpose: string
  legalBasis: LegalBasis
  /** The retention rule, in words a privacy officer signs off; the code enforcing it is named. */
  retention: string
}

export interface PersonalDataDeclaration {
  module: string
  tables: PersonalDataTable[]
  /** Columns whose names look personal but are not, each with the reason. "table.column". */
  notPersonal?: Record<string, string>
}
