import { Migration } from '@mikro-orm/migrations';

/**
 * Alert routing: ordered notification routes (label matchers → contact points, with
 * grouping and timing), the notification groups the evaluator leader keeps (what each group
 * last told its receivers, and when it may speak next), silences, maintenance windows and
 * inhibition rules. Outbox rows now belong to a group and name every alert they speak of.
 * Rows queued before grouping are rewritten to the group message shape (a group of one).
 */
export class Migration20261203084500_notification_routing extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table notification_routes (
        id uuid primary key default gen_random_uuid(),
        position integer not null check (position >= 1),
        matchers jsonb not null default '[]',
        contact_point_ids uuid[] not null default '{}',
        continue boolean not null default false,
        group_by text[] not null,
        group_wait_seconds integer not null,
        group_interval_seconds integer not null,
        repeat_interval_seconds integer not null,
        escalate_after_seconds integer,
        escalate_to_ids uuid[] not null default '{}',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index notification_routes_position_idx on notification_routes (position);

      -- One row per group that has something to say or has said something (route null: the default policy).
      create table notification_groups (
        id uuid primary key default gen_random_uuid(),
        group_key text not null unique,
        route_id uuid references notification_routes (id) on delete cascade,
        labels jsonb not null,
        created_at timestamptz not null default now(),
        next_flush_at timestamptz not null,
        notified_at timestamptz,
        -- the firing alerts the last message named (Alertmanager's notification log entry)
        notified_alert_ids uuid[] not null default '{}',
        first_notified_at timestamptz,
        acknowledged_sent boolean not null default false,
        escalated_at timestamptz
      );

      alter table alert_notifications
        add column group_key text,
        add column alert_ids uuid[] not null default '{}';
      update alert_notifications set alert_ids = array[alert_id], group_key = 'alert:' || alert_id,
        payload = jsonb_build_object('event', payload->'event', 'groupKey', 'alert:' || alert_id,
          'status', case when payload->>'event' = 'RESOLVED' then 'resolved' else 'firing' end,
          'summary', payload->'summary', 'groupLabels', '{}'::jsonb, 'reason', 'first',
          'alerts', jsonb_build_array((payload->'alert') || jsonb_build_object('rule', payload->'rule')))
        where alert_id is not null;
      create index alert_notifications_alerts_idx on alert_notifications using gin (alert_ids);
      create index alert_notifications_group_idx on alert_notifications (group_key, contact_point_id, created_at) where status = 'PENDING';

      create table silences (
        id uuid primary key default gen_random_uuid(),
        matchers jsonb not null,
        starts_at timestamptz not null,
        ends_at timestamptz not null check (ends_at > starts_at),
        comment text not null,
        created_by uuid references users (id) on delete set null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index silences_ends_idx on silences (ends_at);

      create table maintenance_windows (
        id uuid primary key default gen_random_uuid(),
        name text not null,
        matchers jsonb not null,
        cron text not null,
        duration_minutes integer not null,
        timezone text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );

      create table inhibition_rules (
        id uuid primary key default gen_random_uuid(),
        source jsonb not null,
        target jsonb not null,
        equal text[] not null default '{}',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table inhibition_rules, maintenance_windows, silences, notification_groups, notification_routes;
      delete from alert_notifications where alert_id is null and event <> 'TEST';
      alter table alert_notifications drop column group_key, drop column alert_ids;
    `);
  }
}
