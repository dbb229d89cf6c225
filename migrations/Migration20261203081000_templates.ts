import { Migration } from '@mikro-orm/migrations';

/**
 * Workflow templates and their immutable versions (templates/service.ts): each update adds a
 * version holding the whole validated task graph; a workflow run from a template names the
 * version it was made from.
 */
export class Migration20261203081000_templates extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table workflow_templates (
        id uuid primary key default gen_random_uuid(),
        owner_id uuid not null references users (id) on delete cascade,
        name text not null,
        description text,
        latest_version int not null default 1,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index workflow_templates_created_idx on workflow_templates (created_at desc, id desc);
      create index workflow_templates_owner_idx on workflow_templates (owner_id, created_at desc, id desc);

      create table template_versions (
        template_id uuid not null references workflow_templates (id) on delete cascade,
        version int not null check (version >= 1),
        name text not null,
        description text,
        -- the validated tasks (workflows/validation.ts ValidTask[]), in input order
        tasks jsonb not null,
        created_at timestamptz not null default now(),
        created_by uuid references users (id) on delete set null,
        primary key (template_id, version)
      );

      alter table workflows
        add column template_id uuid references workflow_templates (id) on delete set null,
        add column template_version int;
      create index workflows_template_idx on workflows (template_id, created_at desc, id desc) where template_id is not null;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('alter table workflows drop column if exists template_id, drop column if exists template_version; drop table if exists template_versions; drop table if exists workflow_templates;');
  }
}
