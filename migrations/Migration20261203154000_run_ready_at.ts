import { Migration } from '@mikro-orm/migrations';

/**
 * When each attempt could first be claimed (the task's `ready_at` as the claim found it: when it
 * became READY, or when its retry's backoff ended), so the run timeline can show how long every
 * attempt queued. Null for runs claimed before this column existed.
 */
export class Migration20261203154000_run_ready_at extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table task_runs add column ready_at timestamptz');
  }

  override async down(): Promise<void> {
    this.addSql('alter table task_runs drop column ready_at');
  }
}
