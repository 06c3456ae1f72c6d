import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * On PostgreSQL the database itself keeps issued invoices unchanged (GoBD, § 14 UStG): an update of
 * an invoice may change only status and status_changed_at; lines and documents never change. A
 * delete is refused unless the retention job (8 years from the end of the calendar year) declared
 * it in its transaction with `set local fluffycall.invoice_purge = 'on'`. The model layer keeps
 * the same rules on every engine (app/billing/models/invoice.ts).
 */
export default class extends BaseSchema {
  async up() {
    if (this.db.dialect.name !== 'postgres') return
    this.schema.raw(`
      create or replace function fluffycall_protect_invoice() returns trigger as $$
      begin
        if tg_op = 'DELETE' then
          if coalesce(current_setting('fluffycall.invoice_purge', true), '') = 'on' then
            return old;
          end if;
          raise exception 'issued invoice data cannot be deleted (% on %)', tg_op, tg_table_name
            using errcode = 'P0001';
        end if;
        if tg_table_name = 'invoices'
          and (to_jsonb(new) - 'status' - 'status_changed_at') = (to_jsonb(old) - 'status' - 'status_changed_at') then
          return new;
        end if;
        raise exception 'an issued invoice is immutable (% on %)', tg_op, tg_table_name using errcode = 'P0001';
      end;
      $$ language plpgsql
    `)
    for (const table of ['invoices', 'invoice_lines', 'invoice_documents']) {
      this.schema.raw(
        `create trigger ${table}_immutable before update or delete on ${table} for each row execute function fluffycall_protect_invoice()`
      )
    }
  }

  async down() {
    if (this.db.dialect.name !== 'postgres') return
    for (const table of ['invoices', 'invoice_lines', 'invoice_documents']) {
      this.schema.raw(`drop trigger if exists ${table}_immutable on ${table}`)
    }
    this.schema.raw('drop function if exists fluffycall_protect_invoice()')
  }
}
