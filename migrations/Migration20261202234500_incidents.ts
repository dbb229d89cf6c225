import { Migration } from '@mikro-orm/migrations';

/**
 * Incidents of the status page and their updates (status/service.ts). An incident's status is
 * the status of its newest update, kept on the incident so the page lists open ones by index.
 */
export class Migration20261202234500_incidents extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table incidents (
        id uuid primary key default gen_random_uuid(),
        title text not null,
        status text not null check (status in ('INVESTIGATING', 'IDENTIFIED', 'MONITORING', 'RESOLVED')),
        impact text not null check (impact in ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW')),
        components text[] not null default '{}',
        started_at timestamptz not null default now(),
        resolved_at timestamptz,
        check ((status = 'RESOLVED') = (resolved_at is not null))
      );
      create index incidents_started_idx on incidents (started_at desc, id desc);
      create index incidents_open_idx on incidents (started_at desc) where resolved_at is null;
      create index incidents_resolved_idx on incidents (resolved_at desc) where resolved_at is not null;

      create table incident_updates (
        id uuid primary key default gen_random_uuid(),
        incident_id uuid not null references incidents (id) on delete cascade,
        at timestamptz not null default clock_timestamp(),
        status text not null check (status in ('INVESTIGATING', 'IDENTIFIED', 'MONITORING', 'RESOLVED')),
        message text not null,
        -- the update stays when its author's account is deleted
        author_id uuid references users (id) on delete set null
      );
      create index incident_updates_incident_idx on incident_updates (incident_id, at desc);
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists incident_updates; drop table if exists incidents;');
  }
}
