import { Migration } from '@mikro-orm/migrations';

/**
 * Contact points: where alert messages go (Slack, a signed webhook, e-mail, PagerDuty), their
 * settings sealed with the secrets key (AES-256-GCM; never stored in clear). `from_env` names
 * the variable that made one on first start, so it is made once and never again. Outbox rows
 * now name their contact point; test messages belong to no alert; PagerDuty also hears of
 * acknowledgements; `response` keeps what the receiver answered.
 */
export class Migration20261202235500_contact_points extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table contact_points (
        id uuid primary key default gen_random_uuid(),
        name text not null,
        kind text not null check (kind in ('SLACK', 'WEBHOOK', 'EMAIL', 'PAGERDUTY')),
        enabled boolean not null default true,
        settings_sealed text not null,
        from_env text unique,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        -- kept so past notifications still name theirs
        deleted_at timestamptz
      );
      create unique index contact_points_name_idx on contact_points (lower(name)) where deleted_at is null;

      alter table alert_notifications
        add column contact_point_id uuid references contact_points (id),
        add column response text,
        alter column alert_id drop not null,
        drop constraint alert_notifications_channel_check,
        add constraint alert_notifications_channel_check check (channel in ('slack', 'webhook', 'email', 'pagerduty')),
        drop constraint alert_notifications_event_check,
        add constraint alert_notifications_event_check check (event in ('FIRING', 'ACKNOWLEDGED', 'RESOLVED', 'TEST'));
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      delete from alert_notifications where alert_id is null or channel = 'pagerduty' or event in ('ACKNOWLEDGED', 'TEST');
      alter table alert_notifications drop column contact_point_id, drop column response, alter column alert_id set not null;
      drop table contact_points;
    `);
  }
}
