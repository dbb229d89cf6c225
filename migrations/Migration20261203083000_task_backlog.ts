import { Migration } from '@mikro-orm/migrations';

/**
 * The backlog of each queue (workflows/queues.ts: `taskQueues`, `taskQueueChanged`, the
 * workflow_tasks_* gauges): READY and RUNNING tasks by queue, status and readiness, read by an
 * index-only scan; `workflow_id` is included so a member's backlog (its own workflows) needs
 * no visit of the table either.
 */
export class Migration20261203083000_task_backlog extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create index tasks_backlog_idx on tasks (queue, status, ready_at) include (workflow_id) where status in ('READY', 'RUNNING');
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists tasks_backlog_idx;');
  }
}
