import { Migration } from '@mikro-orm/migrations';

/**
 * Schedules (schedules/): a cron expression in a time zone that runs a template version. Every
 * slot a schedule fires is one row of schedule_runs, unique per (schedule_id, scheduled_for),
 * written in the transaction that creates the slot's workflow: a slot cannot run twice, whichever
 * replicas try it and whenever one of them dies. Workflows gain the schedule and slot they ran
 * for, and `scheduled_for` doubles as the time a delayed start (startWorkflow(id, at)) is due.
 */
export class Migration20261203090000_schedules extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table schedules (
        id uuid primary key default gen_random_uuid(),
        owner_id uuid not null references users (id) on delete cascade,
        -- a template runs while schedules use it: deleteTemplate refuses with CONFLICT
        template_id uuid not null references workflow_templates (id),
        -- null: the latest version at each run
        template_version int,
        cron text not null,
        timezone text not null,
        overlap_policy text not null check (overlap_policy in ('SKIP', 'ALLOW', 'CANCEL_PREVIOUS')),
        catchup_window_seconds int not null check (catchup_window_seconds >= 0),
        paused boolean not null default false,
        -- the next slot to fire; null while paused
        next_run_at timestamptz,
        last_run_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index schedules_due_idx on schedules (next_run_at) where not paused;
      create index schedules_created_idx on schedules (created_at desc, id desc);
      create index schedules_owner_idx on schedules (owner_id, created_at desc, id desc);
      create index schedules_template_idx on schedules (template_id);

      create table schedule_runs (
        schedule_id uuid not null references schedules (id) on delete cascade,
        scheduled_for timestamptz not null,
        -- STARTED (workflow_id names the run), SKIPPED (overlapPolicy SKIP found one running), FAILED (error says why)
        outcome text not null check (outcome in ('STARTED', 'SKIPPED', 'FAILED')),
        workflow_id uuid references workflows (id) on delete set null,
        error text,
        created_at timestamptz not null default now(),
        primary key (schedule_id, scheduled_for)
      );

      alter table workflows
        add column schedule_id uuid references schedules (id) on delete set null,
        add column scheduled_for timestamptz;
      create index workflows_schedule_idx on workflows (schedule_id, created_at desc, id desc) where schedule_id is not null;
      create index workflows_schedule_active_idx on workflows (schedule_id) where schedule_id is not null and status in ('DRAFT', 'PENDING', 'RUNNING');
      create index workflows_delayed_idx on workflows (scheduled_for) where status = 'DRAFT' and scheduled_for is not null;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('alter table workflows drop column if exists schedule_id, drop column if exists scheduled_for; drop table if exists schedule_runs; drop table if exists schedules;');
  }
}
