import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'

/**
 * "Call content is never recorded or stored" (the privacy statement): no table may hold a column
 * that could keep audio or files (binary types, or names of recordings, files, paths and payloads)
 * unless it is on the allow-list below of documents that are no call content, each with its reason.
 * A migration that adds such a column fails here until someone decides about it in writing.
 */
interface TypedColumn {
  table: string
  column: string
  type: string
}

const BINARY_TYPES = /blob|bytea|binary|varbinary|image|oid/i
const CONTENT_WORDS =
  /(^|_)(audio|recording|recordings|voice|sound|wav|pcm|payload|media_file|file|files|filename|path|attachment|attachments|blob|content|bytes)($|_)/i

/** "table.column": why it is no call content. */
export const ALLOWED: Record<string, string> = {
  'dpa_acceptances.snapshot':
    'the accepted DPA text and its annexes as JSON (a contract document, no call content)',
  'data_export_archives.archive':
    "a user's copy of their personal data (zip of JSON and CSV, Art. 15, 20 GDPR): metadata, no call content",
  'data_export_archives.size_bytes': 'the size of that archive, a number',
  'invoice_documents.content':
    'the issued invoice as CII XML and PDF/A-3 bytes (GoBD: kept as issued; no call content)',
}

const SKIPPED_TABLES = new Set(['adonis_schema', 'adonis_schema_versions'])

export function suspicious(columns: TypedColumn[], allowed: Record<string, string> = ALLOWED) {
  return columns
    .filter((entry) => !SKIPPED_TABLES.has(entry.table))
    .filter((entry) => BINARY_TYPES.test(entry.type) || CONTENT_WORDS.test(entry.column))
    .map((entry) => `${entry.table}.${entry.column} (${entry.type})`)
    .filter((key) => !(key.split(' ')[0] in allowed))
    .sort()
}

async function typedSchema(): Promise<TypedColumn[]> {
  const connection = db.connection()
  const dialect = connection.dialect.name
  if (dialect === 'better-sqlite3' || dialect === 'sqlite3') {
    const tables = await connection
      .from('sqlite_master')
      .where('type', 'table')
      .whereNot('name', 'like', 'sqlite_%')
      .select('name')
    const columns: TypedColumn[] = []
    for (const { name: table } of tables) {
      const info = (await connection.rawQuery(`PRAGMA table_info("${table}")`)) as Array<{
        name: string
        type: string
      }>
      for (const column of info)
        columns.push({ table, column: column.name, type: column.type || 'blob' })
    }
    return columns
  }
  if (dialect === 'postgres') {
    const result = await connection.rawQuery(
      `SELECT c.table_name, c.column_name, c.data_type
         FROM information_schema.columns c
         JOIN information_schema.tables tb
           ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name AND tb.table_type = 'BASE TABLE'
        WHERE c.table_schema = current_schema()`
    )
    return result.rows.map(
      (row: { table_name: string; column_name: string; data_type: string }) => ({
        table: row.table_name,
        column: row.column_name,
        type: row.data_type,
      })
    )
  }
  throw new Error(`call-content schema check: no schema reader for the "${dialect}" dialect`)
}

test.group('Call content is never stored: the database schema', () => {
  test('the detector flags binary columns and recording/file/path names, and honours the allow-list', ({
    assert,
  }) => {
    const columns: TypedColumn[] = [
      { table: 'calls', column: 'recording_path', type: 'varchar' },
      { table: 'calls', column: 'audio', type: 'bytea' },
      { table: 'calls', column: 'notes', type: 'blob' },
      { table: 'calls', column: 'callee_number', type: 'varchar' },
      { table: 'docs', column: 'file', type: 'text' },
    ]
    assert.deepEqual(suspicious(columns, { 'docs.file': 'a document' }), [
      'calls.audio (bytea)',
      'calls.notes (blob)',
      'calls.recording_path (varchar)',
    ])
  })

  test('no table of the live database has a column that could hold audio or files outside the allow-list', async ({
    assert,
  }) => {
    const columns = await typedSchema()
    assert.isAbove(columns.length, 50, 'read the schema')
    assert.deepEqual(suspicious(columns), [])
    const existing = new Set(columns.map((entry) => `${entry.table}.${entry.column}`))
    assert.deepEqual(
      Object.keys(ALLOWED).filter((key) => !existing.has(key)),
      [],
      'allow-list entries that no longer exist'
    )
  })
})
