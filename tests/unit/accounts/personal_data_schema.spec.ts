import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import type { PersonalDataDeclaration } from '#core/personal_data'
import { personalDataDeclarations } from '#privacy/personal_data_registry'

/**
 * Compares the live database schema with the personal-data declarations of every module
 * (app/privacy/personal_data_registry.ts). A column whose name looks personal must be declared as
 * personal data or listed in `notPersonal` with a reason; every declared table and column must exist.
 */

interface SchemaColumn {
  table: string
  column: string
  foreignKey: boolean
}

const SKIPPED_TABLES = new Set(['adonis_schema', 'adonis_schema_versions'])

/** Name parts that suggest personal data: names, contacts, numbers, addresses, IPs, credentials. */
const PERSONAL_WORDS = [
  'name',
  'email',
  'mail',
  'phone',
  'number',
  'msisdn',
  'street',
  'address',
  'postal',
  'zip',
  'city',
  'ip',
  'password',
  'secret',
  'token',
  'code',
  'birth',
  'birthday',
  'iban',
]

export function looksPersonal(column: string) {
  const words = column
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
  // Plurals count too: codes, emails, addresses.
  const forms = (word: string) => [word, word.replace(/s$/, ''), word.replace(/es$/, '')]
  return words.some((word) => forms(word).some((form) => PERSONAL_WORDS.includes(form)))
}

export interface SchemaReport {
  /** "table.column" that look personal but are neither declared nor listed as not personal. */
  undeclared: string[]
  /** Declared "table" or "table.column" that the database does not have. */
  missing: string[]
}

export function compareWithDeclarations(
  schema: SchemaColumn[],
  declarations: PersonalDataDeclaration[]
): SchemaReport {
  const existingTables = new Set(schema.map((entry) => entry.table))
  const existingColumns = new Set(schema.map((entry) => `${entry.table}.${entry.column}`))
  const declared = new Set<string>()
  const missing: string[] = []

  for (const declaration of declarations) {
    for (const table of declaration.tables) {
      if (!existingTables.has(table.table))
        missing.push(`${declaration.module}: table ${table.table}`)
      for (const column of Object.keys(table.columns)) {
        const key = `${table.table}.${column}`
        declared.add(key)
        if (existingTables.has(table.table) && !existingColumns.has(key))
          missing.push(`${declaration.module}: ${key}`)
      }
    }
    for (const key of Object.keys(declaration.notPersonal ?? {})) {
      declared.add(key)
      if (!existingColumns.has(key)) missing.push(`${declaration.module}: notPersonal ${key}`)
    }
  }

  const undeclared = schema
    .filter((entry) => !SKIPPED_TABLES.has(entry.table))
    .filter((entry) => entry.column !== 'id' && !entry.foreignKey)
    .filter((entry) => looksPersonal(entry.column))
    .map((entry) => `${entry.table}.${entry.column}`)
    .filter((key) => !declared.has(key))
    .sort()

  return { undeclared, missing: missing.sort() }
}

/** Every column of every table of the live database, with whether it is a foreign key. */
async function liveSchema(): Promise<SchemaColumn[]> {
  const connection = db.connection()
  const dialect = connection.dialect.name
  const columns: SchemaColumn[] = []

  if (dialect === 'better-sqlite3' || dialect === 'sqlite3') {
    const tables = await connection
      .from('sqlite_master')
      .where('type', 'table')
      .whereNot('name', 'like', 'sqlite_%')
      .select('name')
    for (const { name: table } of tables) {
      const info = await connection.rawQuery(`PRAGMA table_info("${table}")`)
      const keys = await connection.rawQuery(`PRAGMA foreign_key_list("${table}")`)
      const foreign = new Set((keys as Array<{ from: string }>).map((key) => key.from))
      for (const column of info as Array<{ name: string }>) {
        columns.push({ table, column: column.name, foreignKey: foreign.has(column.name) })
      }
    }
    return columns
  }

  if (dialect === 'postgres') {
    const result = await connection.rawQuery(
      `SELECT c.table_name, c.column_name,
              EXISTS (
                SELECT 1 FROM information_schema.key_column_usage k
                JOIN information_schema.table_constraints t
                  ON t.constraint_name = k.constraint_name AND t.table_schema = k.table_schema
                WHERE t.constraint_type = 'FOREIGN KEY' AND k.table_schema = c.table_schema
                  AND k.table_name = c.table_name AND k.column_name = c.column_name
              ) AS foreign_key
         FROM information_schema.columns c
         JOIN information_schema.tables tb
           ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name AND tb.table_type = 'BASE TABLE'
        WHERE c.table_schema = current_schema()
        ORDER BY c.table_name, c.ordinal_position`
    )
    for (const row of result.rows) {
      columns.push({
        table: row.table_name,
        column: row.column_name,
        foreignKey: Boolean(row.foreign_key),
      })
    }
    return columns
  }

  throw new Error(`personal-data schema check: no schema reader for the "${dialect}" dialect`)
}

test.group('Personal data declarations match the database schema', () => {
  test('the detector flags an undeclared personal-looking column and a declared column that is gone', ({
    assert,
  }) => {
    const schema: SchemaColumn[] = [
      { table: 'contacts', column: 'id', foreignKey: false },
      { table: 'contacts', column: 'user_id', foreignKey: true },
      { table: 'contacts', column: 'full_name', foreignKey: false },
      { table: 'contacts', column: 'phone_number', foreignKey: false },
      { table: 'contacts', column: 'created_at', foreignKey: false },
      { table: 'adonis_schema', column: 'name', foreignKey: false },
    ]
    const declarations: PersonalDataDeclaration[] = [
      {
        module: 'synthetic',
        tables: [
          {
            table: 'contacts',
            subject: 'user',
            columns: { full_name: 'name', birth_date: 'date of birth' },
            purpose: 'test',
            legalBasis: 'contract',
            retention: 'test',
          },
        ],
        notPersonal: { 'contacts.zip_code_hint': 'test' },
      },
    ]
    const report = compareWithDeclarations(schema, declarations)
    assert.deepEqual(report.undeclared, ['contacts.phone_number'])
    assert.deepEqual(report.missing, [
      'synthetic: contacts.birth_date',
      'synthetic: notPersonal contacts.zip_code_hint',
    ])

    // Declaring it (or listing it as not personal) clears it.
    declarations[0].tables[0].columns.phone_number = 'phone number'
    assert.deepEqual(compareWithDeclarations(schema, declarations).undeclared, [])
  })

  test('the detector recognises personal-looking names by their words', ({ assert }) => {
    for (const name of [
      'phone_number',
      'email',
      'contact_email',
      'legal_name',
      'ip',
      'client_ip',
      'recovery_codes',
      'iban',
      'date_of_birth',
      'billing_street',
      'token_hash',
      'emails',
    ]) {
      assert.isTrue(looksPersonal(name), name)
    }
    for (const name of [
      'id',
      'status',
      'created_at',
      'description',
      'zipped',
      'recipient_count',
      'shipping',
    ]) {
      assert.isFalse(looksPersonal(name), name)
    }
  })

  test('every personal-looking column of the live database is declared, and every declaration exists', async ({
    assert,
  }) => {
    const schema = await liveSchema()
    assert.isAbove(schema.length, 0, 'the schema reader found no columns')
    assert.includeMembers(
      schema.map((entry) => `${entry.table}.${entry.column}`),
      ['users.email', 'audit_entries.ip', 'companies.legal_name'],
      'the schema reader sees the accounts tables'
    )
    assert.isTrue(
      schema.find((entry) => entry.table === 'users' && entry.column === 'company_id')?.foreignKey,
      'the schema reader recognises foreign keys'
    )

    const report = compareWithDeclarations(schema, personalDataDeclarations)
    assert.deepEqual(
      report.undeclared,
      [],
      "columns that look personal: declare them in the module's personal_data.ts (or list them in notPersonal with a reason)"
    )
    assert.deepEqual(
      report.missing,
      [],
      'declared tables or columns that the database does not have'
    )
  })
})
