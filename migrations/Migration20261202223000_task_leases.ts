import { Migration } from '@mikro-orm/migrations';

/**
 * Work that survives its workers (workflows/lifecycle.ts, workflows/expiry.ts): each attempt
 * holds a lease that heartbeats extend; priorities; the worker's id, the error's type and the
 * task's output. The claim is served by partial indexes over READY tasks in claim order (one
 * queue, or any), and the expiry sweep by one over RUNNING tasks.
 */
export class Migration20261202223000_task_leases extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table tasks
        add column priority integer not null default 0,
        add column timeout_seconds integer check (timeout_seconds > 0),
        add column heartbeat_timeout_seconds integer not null default 300 check (heartbeat_timeout_seconds > 0),
        add column lease_expires_at timestamptz,
        add column last_heartbeat_at timestamptz,
        add column heartbeat_details jsonb,
        add column worker_id text,
        add column error_type text,
        add column output jsonb;
      drop index tasks_status_queue_idx;
      create index tasks_claim_queue_idx on tasks (queue, priority desc, ready_at, position) where status = 'READY';
      create index tasks_claim_any_idx on tasks (priority desc, ready_at, position) where status = 'READY';
      create index tasks_running_lease_idx on tasks (lease_expires_at) where status = 'RUNNING';
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop index if exists tasks_running_lease_idx;
      drop index if exists tasks_claim_any_idx;
      drop index if exists tasks_claim_queue_idx;
      create index tasks_status_queue_idx on tasks (status, queue, ready_at);
      alter table tasks
        drop column priority, drop column timeout_seconds, drop column heartbeat_timeout_seconds,
        drop column lease_expires_at, drop column last_heartbeat_at, drop column heartbeat_details,
        drop column worker_id, drop column error_type, drop column output;
    `);
  }
}
