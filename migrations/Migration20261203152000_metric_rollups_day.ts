import { Migration } from '@mikro-orm/migrations';

/**
 * A third rollup tier: 1-day buckets, merged from the 1-hour tier (count, sum, min and max
 * merge exactly; a p95 does not, so it stays null here and P95 is never read from days). A
 * year of one metric is then 365 rows a series instead of 8,760.
 */
export class Migration20261203152000_metric_rollups_day extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table metric_rollups_day (like metric_rollups_hour);
      alter table metric_rollups_day alter column p95 drop not null;
      create unique index metric_rollups_day_key on metric_rollups_day (name, bucket, service, instance) nulls not distinct;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists metric_rollups_day; delete from metric_rollup_state where tier = 'day';`);
  }
}
