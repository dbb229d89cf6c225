import { Migration } from '@mikro-orm/migrations';

/**
 * Snapshots of pg_stat_statements (its counters only grow), so the slow-query page can show what
 * changed between two moments: calls and mean time since a snapshot (observability/slow-queries.ts).
 */
export class Migration20261202090000_slow_query_snapshots extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table slow_query_snapshots (
        taken_at timestamptz not null,
        query_id bigint not null,
        query text not null,
        calls bigint not null,
        total_ms double precision not null,
        rows bigint not null,
        primary key (taken_at, query_id)
      );
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists slow_query_snapshots;');
  }
}
