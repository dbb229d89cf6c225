import { Migration } from '@mikro-orm/migrations';

/**
 * The audit log: one row per mutation that changed something, written in the transaction of
 * the change (so there is never a change without its row, nor a row without its change).
 */
export class Migration20261202070000_audit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table audit_log (
        id uuid primary key default gen_random_uuid(),
        at timestamptz not null default now(),
        -- kept when the user is deleted: the row still says who it was by email
        actor_id uuid references users (id) on delete set null,
        actor_email text,
        -- 'session', or the API token's name
        credential text,
        action text not null,
        target_id text,
        ip text,
        details jsonb
      );
      create index audit_log_at_idx on audit_log (at desc, id desc);
      create index audit_log_actor_idx on audit_log (actor_id, at desc);
      create index audit_log_action_idx on audit_log (action, at desc);
      create index audit_log_target_idx on audit_log (target_id, at desc);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists audit_log;');
  }
}
