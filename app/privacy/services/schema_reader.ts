import db from '@adonisjs/lucid/services/db'

/**
 * The live schema as table -> column names, read through the default connection (and so inside a
 * surrounding global transaction in tests, where knex's own schema helpers would wait on SQLite).
 */
export async function liveColumns(): Promise<Map<string, Set<string>>> {
  const connection = db.connection()
  const dialect = connection.dialect.name
  const out = new Map<string, Set<string>>()
  if (dialect === 'better-sqlite3' || dialect === 'sqlite3') {
    const tables = await connection
      .from('sqlite_master')
      .where('type', 'table')
      .whereNot('name', 'like', 'sqlite_%')
      .select('name')
    for (const { name } of tables) {
      const info = (await connection.rawQuery(`PRAGMA table_info("${name}")`)) as Array<{
        name: string
      }>
      out.set(name, new Set(info.map((column) => column.name)))
    }
    return out
  }
  if (dialect === 'postgres') {
    const result = await connection.rawQuery(
      `SELECT c.table_name, c.column_name
         FROM information_schema.columns c
         JOIN information_schema.tables tb
           ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name AND tb.table_type = 'BASE TABLE'
        WHERE c.table_schema = current_schema()`
    )
    for (const row of result.rows as Array<{ table_name: string; column_name: string }>) {
      if (!out.has(row.table_name)) out.set(row.table_name, new Set())
      out.get(row.table_name)!.add(row.column_name)
    }
    return out
  }
  throw new Error(`schema reader: no reader for the "${dialect}" dialect`)
}
