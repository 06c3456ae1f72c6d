import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * One default price list at most (company_id null): rating asks the default when a company's list
 * has no prefix for a number, and two defaults would price calls by whichever the database returned
 * first. The column's unique index lets any number of nulls through, so a partial unique index on
 * the expression (company_id IS NULL) over the default rows holds the rule on SQLite and
 * PostgreSQL, also against two staff members creating one at the same moment.
 */
export default class extends BaseSchema {
  async up() {
    this.defer(async (db) => {
      const defaults = await db.from('price_lists').whereNull('company_id').count('* as total')
      if (Number(defaults[0].total) > 1)
        throw new Error(
          'There are several default price lists (company_id null): keep one (give the others to companies or delete them), then migrate again'
        )
      await db.rawQuery(
        'CREATE UNIQUE INDEX price_lists_single_default ON price_lists ((company_id IS NULL)) WHERE company_id IS NULL'
      )
    })
  }

  async down() {
    this.defer(async (db) => {
      await db.rawQuery('DROP INDEX IF EXISTS price_lists_single_default')
    })
  }
}
