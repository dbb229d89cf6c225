import { Migration } from '@mikro-orm/migrations';

/** Users, sessions, API tokens, workflows, tasks with dependencies, and the event log. */
export class Migration20261127000000_core extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table users (
        id uuid primary key default gen_random_uuid(),
        email text not null unique,
        name text not null,
        role text not null check (role in ('ADMIN', 'MEMBER', 'VIEWER')),
        password_hash text not null,
        created_at timestamptz not null default now()
      );

      create table sessions (
        id uuid primary key default gen_random_uuid(),
        user_id uuid not null references users (id) on delete cascade,
        token_hash text not null unique,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      create index sessions_user_idx on sessions (user_id);

      create table api_tokens (
        id uuid primary key default gen_random_uuid(),
        user_id uuid not null references users (id) on delete cascade,
        name text not null,
        token_hash text not null unique,
        created_at timestamptz not null default now(),
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      create index api_tokens_user_idx on api_tokens (user_id);

      create table workflows (
        id uuid primary key default gen_random_uuid(),
        owner_id uuid not null references users (id) on delete cascade,
        name text not null,
        description text,
        status text not null check (status in ('DRAFT', 'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        started_at timestamptz,
        finished_at timestamptz
      );
      create index workflows_owner_idx on workflows (owner_id, created_at desc, id desc);
      create index workflows_status_created_idx on workflows (status, created_at desc, id desc);
      create index workflows_created_idx on workflows (created_at desc, id desc);

      create table tasks (
        id uuid primary key default gen_random_uuid(),
        workflow_id uuid not null references workflows (id) on delete cascade,
        name text not null,
        position integer not null,
        status text not null check (status in ('PENDING', 'READY', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        queue text not null default 'default',
        attempts integer not null default 0,
        max_attempts integer not null default 1 check (max_attempts >= 1),
        error text,
        ready_at timestamptz,
        started_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        unique (workflow_id, name)
      );
      create index tasks_workflow_idx on tasks (workflow_id, position);
      create index tasks_status_queue_idx on tasks (status, queue, ready_at);

      create table task_dependencies (
        task_id uuid not null references tasks (id) on delete cascade,
        depends_on_id uuid not null references tasks (id) on delete cascade,
        primary key (task_id, depends_on_id)
      );
      create index task_dependencies_depends_on_idx on task_dependencies (depends_on_id);

      create table events (
        id bigserial primary key,
        topic text not null,
        kind text not null,
        workflow_id uuid,
        task_id uuid,
        owner_id uuid,
        payload jsonb not null default '{}',
        created_at timestamptz not null default now()
      );
      create index events_topic_id_idx on events (topic, id);
      create index events_created_idx on events (created_at);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists events, task_dependencies, tasks, workflows, api_tokens, sessions, users cascade;');
  }
}
