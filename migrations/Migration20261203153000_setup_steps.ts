import { Migration } from '@mikro-orm/migrations';

/**
 * What the first start does once and never again, whatever the number of restarts or
 * replicas: a row per step, inserted in the transaction that does the step. An install that
 * already has users started before the steps existed: its notification policy is its own
 * (no routes: every alert to every contact point), so its default routes count as made.
 */
export class Migration20261203153000_setup_steps extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table setup_steps (
        step text primary key,
        done_at timestamptz not null default now()
      );
      insert into setup_steps (step) select 'default-notification-routes' where exists (select 1 from users);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table setup_steps;');
  }
}
