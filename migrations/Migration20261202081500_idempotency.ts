import { Migration } from '@mikro-orm/migrations';

/**
 * Idempotency keys: one row per user and key, claimed in the transaction of the create it
 * guards, naming what that create made (graphql/idempotency.ts).
 */
export class Migration20261202081500_idempotency extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table idempotency_keys (
        user_id uuid not null references users (id) on delete cascade,
        key text not null,
        request_hash text not null,
        target_id uuid,
        created_at timestamptz not null default now(),
        primary key (user_id, key)
      );
      create index idempotency_keys_created_idx on idempotency_keys (created_at);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists idempotency_keys;');
  }
}
