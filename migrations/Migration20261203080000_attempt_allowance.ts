import { Migration } from '@mikro-orm/migrations';

/**
 * Attempt numbers that never repeat within a task: `retryTask` no longer resets `attempts` but
 * raises `max_attempts` by the task's allowance (its `maxAttempts` as created, kept here from
 * its first retry on; null until then). A worker still holding an attempt from before a retry
 * can then never match the attempt a new worker runs, so its late complete/fail/heartbeat is
 * CONFLICT "lease lost" instead of ending the new attempt.
 */
export class Migration20261203080000_attempt_allowance extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table tasks add column attempt_allowance integer');
  }

  override async down(): Promise<void> {
    this.addSql('alter table tasks drop column attempt_allowance');
  }
}
