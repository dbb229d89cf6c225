import { Migration } from '@mikro-orm/migrations';

/**
 * Metric rollups: 1-minute and 1-hour aggregates of the raw samples, written incrementally
 * by one replica (metrics/rollups.ts), and how far each tier has been written. Also the
 * guide's default disk I/O alert (80 % busy for a minute), beside the rules seeded in the
 * monitoring migration.
 */
export class Migration20261202073000_metric_rollups extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table metric_rollups_minute (
        name text not null,
        service text not null,
        instance text,
        bucket timestamptz not null,
        samples integer not null,
        sum double precision not null,
        min double precision not null,
        max double precision not null,
        -- exact 95th percentile of the raw samples of this one bucket
        p95 double precision not null
      );
      -- series read one name over a bucket range (all services, or one): name, then bucket
      create unique index metric_rollups_minute_key on metric_rollups_minute (name, bucket, service, instance) nulls not distinct;
      create index metric_rollups_minute_bucket_brin on metric_rollups_minute using brin (bucket);

      create table metric_rollups_hour (like metric_rollups_minute);
      create unique index metric_rollups_hour_key on metric_rollups_hour (name, bucket, service, instance) nulls not distinct;
      create index metric_rollups_hour_bucket_brin on metric_rollups_hour using brin (bucket);

      -- tier ('minute', 'hour') → every bucket before rolled_until is written
      create table metric_rollup_state (
        tier text primary key,
        rolled_until timestamptz not null
      );

      insert into alert_rules (name, metric, comparator, threshold, for_seconds, severity) values
        ('Disk I/O above 80 %', 'disk_io_percent', '>', 80, 60, 'HIGH')
        on conflict do nothing;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from alert_rules where metric = 'disk_io_percent' and name = 'Disk I/O above 80 %';`);
    this.addSql('drop table if exists metric_rollup_state, metric_rollups_hour, metric_rollups_minute cascade;');
  }
}
