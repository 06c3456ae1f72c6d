import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * On PostgreSQL the database keeps the audit log append-only (the TOMs page proves it by trying):
 * an UPDATE or DELETE is refused, except (a) clearing actor_id or company_id, which is what the
 * foreign keys' ON DELETE SET NULL does when a user or company is deleted, and (b) the retention
 * job, which declares itself in its transaction with `set local fluffycall.audit_retention = 'on'`
 * to shorten addresses and delete entries past the retention period.
 */
export default class extends BaseSchema {
  async up() {
    if (this.db.dialect.name !== 'postgres') return
    this.schema.raw(`
      create or replace function fluffycall_protect_audit() returns trigger as $$
      begin
        if coalesce(current_setting('fluffycall.audit_retention', true), '') = 'on' then
          if tg_op = 'DELETE' then return old; end if;
          return new;
        end if;
        if tg_op = 'UPDATE'
          and (to_jsonb(new) - 'actor_id' - 'company_id') = (to_jsonb(old) - 'actor_id' - 'company_id')
          and (new.actor_id is null or new.actor_id = old.actor_id)
          and (new.company_id is null or new.company_id = old.company_id) then
          return new;
        end if;
        raise exception 'the audit log is append-only (% on audit_entries)', tg_op using errcode = 'P0001';
      end;
      $$ language plpgsql
    `)
    this.schema.raw(
      `create trigger audit_entries_append_only before update or delete on audit_entries for each row execute function fluffycall_protect_audit()`
    )
  }

  async down() {
    if (this.db.dialect.name !== 'postgres') return
    this.schema.raw('drop trigger if exists audit_entries_append_only on audit_entries')
    this.schema.raw('drop function if exists fluffycall_protect_audit()')
  }
}
