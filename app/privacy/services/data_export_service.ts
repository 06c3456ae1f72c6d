import { createHash } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type User from '#accounts/models/user'
import { sqlTime } from '#core/sql_time'
import {
  CALL_RECORD_RETENTION_MONTHS,
  personalDataDeclarations,
} from '#privacy/personal_data_registry'
import { zipArchive, type ZipEntry } from '#privacy/services/zip_archive'
import { liveColumns } from '#privacy/services/schema_reader'

/** Columns never handed out, not even to their owner: secrets that would weaken the account. */
export const WITHHELD_COLUMNS = new Set([
  'password',
  'totp_secret',
  'recovery_codes',
  'ha1_md5',
  'ha1_sha256',
  'sealed_session_id',
  'session_digest',
  'token_hash',
  'data',
  'archive',
])

type Row = Record<string, unknown>

/** How rows of a table are found for one user; tables with a user_id column need no entry. */
const LINKS: Record<string, (user: User, now: DateTime) => Promise<Row[]>> = {
  users: async (user) => db.from('users').where('id', user.id),
  invitations: async (user) => db.from('invitations').where('email', user.email),
  audit_entries: async (user) =>
    db
      .from('audit_entries')
      .where('actor_id', user.id)
      .orWhere((query) => query.where('target_type', 'user').where('target_id', String(user.id)))
      .orderBy('id'),
  call_records: async (user, now) =>
    db
      .from('call_records')
      // Internal calls name the called colleague too (callee_user_id): theirs as much as the caller's.
      .where((query) => query.where('user_id', user.id).orWhere('callee_user_id', user.id))
      .where('started_at', '>=', sqlTime(now.minus({ months: CALL_RECORD_RETENTION_MONTHS })))
      .orderBy('started_at'),
  // Rules of the user, and colleagues' rules that forward to the user (target_user_id)
  call_forwardings: async (user) =>
    db
      .from('call_forwardings')
      .where((query) => query.where('user_id', user.id).orWhere('target_user_id', user.id))
      .orderBy('id'),
  // Company numbers' rules that forward to the user or that the user set as admin
  phone_number_forwardings: async (user) =>
    db
      .from('phone_number_forwardings')
      .where((query) => query.where('target_user_id', user.id).orWhere('set_by_user_id', user.id))
      .orderBy('id'),
  sip_device_addresses: async (user) =>
    db
      .from('sip_device_addresses')
      .whereIn('sip_device_id', db.from('sip_devices').select('id').where('user_id', user.id)),
  // The declaration an owner made for full numbers on the itemised bill (TDDDG § 11(1)).
  companies: async (user) =>
    db
      .from('companies')
      .where('full_numbers_declared_by', user.id)
      .select(
        'id',
        'full_numbers_declared_by',
        'full_numbers_declared_at',
        'full_numbers_declaration'
      ),
  fraud_review_cases: async (user) =>
    db.from('fraud_review_cases').where('decided_by_id', user.id).orderBy('id'),
  sessions: async (user) => db.from('sessions').where('user_id', String(user.id)),
  data_subject_requests: async (user) =>
    db.from('data_subject_requests').where('user_id', user.id).orderBy('id'),
  // The owner who terminated the account or withdrew the termination
  account_terminations: async (user) =>
    db
      .from('account_terminations')
      .where('requested_by_id', user.id)
      .orWhere('withdrawn_by_id', user.id)
      .orderBy('id'),
}

export interface ExportedTable {
  table: string
  rows: number
  purpose: string
  legalBasis: string
  retention: string
}

/**
 * The copy of all personal data about one user (Art. 15 GDPR) in a machine-readable archive
 * (Art. 20): one JSON and one CSV file per table of the personal-data registry that holds rows
 * about the user, and a manifest saying for each table why it is processed and how long kept.
 */
export default class DataExportService {
  now: () => DateTime = () => DateTime.utc()

  /** The tables the registry declares about users and callers, each once. */
  async userTables() {
    const seen = new Map<string, ExportedTable>()
    for (const declaration of personalDataDeclarations)
      for (const entry of declaration.tables) {
        if (entry.subject !== 'user' && entry.subject !== 'caller') continue
        const known = seen.get(entry.table)
        if (known) {
          known.purpose += `; ${entry.purpose}`
          continue
        }
        seen.set(entry.table, {
          table: entry.table,
          rows: 0,
          purpose: entry.purpose,
          legalBasis: entry.legalBasis,
          retention: entry.retention,
        })
      }
    return [...seen.values()]
  }

  /** How the rows of `table` are found for a user, or null when the table has no link to one. */
  async linkOf(table: string, schema?: Map<string, Set<string>>) {
    if (LINKS[table]) return LINKS[table]
    const columns = (schema ?? (await liveColumns())).get(table)
    if (!columns?.has('user_id')) return null
    // A table keyed by the user itself (internal_lines) has no id column to order by.
    const order = columns.has('id') ? 'id' : 'user_id'
    return async (user: User) => db.from(table).where('user_id', user.id).orderBy(order)
  }

  async collect(user: User) {
    const now = this.now()
    const files = new Map<string, Row[]>()
    const manifest: Array<ExportedTable & { linked: boolean }> = []
    const schema = await liveColumns()
    for (const entry of await this.userTables()) {
      const link = await this.linkOf(entry.table, schema)
      if (!link) {
        manifest.push({ ...entry, linked: false })
        continue
      }
      const rows = (await link(user, now)).map(presentable)
      manifest.push({ ...entry, rows: rows.length, linked: true })
      if (rows.length) files.set(entry.table, rows)
    }
    return { now, files, manifest }
  }

  async build(user: User) {
    const { now, files, manifest } = await this.collect(user)
    const entries: ZipEntry[] = [
      {
        name: 'manifest.json',
        content: JSON.stringify(
          {
            subject: { id: user.id, name: user.fullName, email: user.email },
            createdAt: now.toISO(),
            format: 'one JSON and one CSV file per table; columns as stored; secrets withheld',
            withheldColumns: [...WITHHELD_COLUMNS],
            tables: manifest,
          },
          null,
          2
        ),
      },
    ]
    for (const [table, rows] of files) {
      entries.push({ name: `${table}.json`, content: JSON.stringify(rows, null, 2) })
      entries.push({ name: `${table}.csv`, content: toCsv(rows) })
    }
    const archive = zipArchive(entries)
    return { archive, sha256: createHash('sha256').update(archive).digest('hex') }
  }
}

function presentable(row: Row): Row {
  const out: Row = {}
  for (const [column, value] of Object.entries(row)) {
    if (WITHHELD_COLUMNS.has(column)) out[column] = value === null ? null : '[withheld]'
    else if (value instanceof Date) out[column] = value.toISOString()
    else if (Buffer.isBuffer(value)) out[column] = '[binary]'
    else out[column] = value
  }
  return out
}

function toCsv(rows: Row[]) {
  const columns = Object.keys(rows[0] ?? {})
  const cell = (value: unknown) => {
    const text =
      value === null || value === undefined
        ? ''
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value)
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
  }
  return [columns.join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))]
    .join('\r\n')
    .concat('\r\n')
}
