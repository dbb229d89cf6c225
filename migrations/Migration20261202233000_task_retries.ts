import { Migration } from '@mikro-orm/migrations';

/**
 * Retry policies and the record of every attempt (workflows/lifecycle.ts): a task's policy
 * (`retry`, null: retried at once, as before), when a backed-off task may be claimed again
 * (`next_attempt_at`), and one `task_runs` row per attempt, oldest first by id.
 */
export class Migration20261202233000_task_retries extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table tasks
        add column retry jsonb,
        add column next_attempt_at timestamptz;
      create table task_runs (
        id bigserial primary key,
        task_id uuid not null references tasks (id) on delete cascade,
        attempt integer not null,
        worker_id text,
        started_at timestamptz not null default now(),
        finished_at timestamptz,
        outcome text check (outcome in ('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'LOST', 'CANCELLED')),
        error text,
        error_type text
      );
      create index task_runs_task_idx on task_runs (task_id, id);
      create unique index task_runs_open_idx on task_runs (task_id) where finished_at is null;
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table if exists task_runs;
      alter table tasks drop column retry, drop column next_attempt_at;
    `);
  }
}
