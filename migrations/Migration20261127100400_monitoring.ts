import { Migration } from '@mikro-orm/migrations';

/**
 * Monitoring: metric samples, replica heartbeats, alert rules (with the operations guide's
 * defaults, so they exist from the first start on), alerts, and the notification outbox.
 */
export class Migration20261127100400_monitoring extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table metrics (
        name text not null,
        service text not null,
        instance text,
        time timestamptz not null,
        value double precision not null
      );
      -- series and latest-value reads filter on name (+ service) and a time range
      create index metrics_name_service_time_idx on metrics (name, service, time);
      -- retention deletes by time alone; rows arrive in time order, so BRIN stays tiny
      create index metrics_time_brin on metrics using brin (time);

      create table heartbeats (
        instance text primary key,
        started_at timestamptz not null default now(),
        last_seen_at timestamptz not null default now()
      );

      create table alert_rules (
        id uuid primary key default gen_random_uuid(),
        name text not null,
        metric text not null,
        service text,
        comparator text not null check (comparator in ('>', '>=', '<', '<=', '==', '!=')),
        threshold double precision not null,
        for_seconds integer not null default 0 check (for_seconds >= 0),
        severity text not null check (severity in ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW')),
        enabled boolean not null default true,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        -- kept (not deleted) so past alerts still name their rule
        deleted_at timestamptz
      );
      create unique index alert_rules_name_idx on alert_rules (lower(name)) where deleted_at is null;

      create table alerts (
        id uuid primary key default gen_random_uuid(),
        rule_id uuid not null references alert_rules (id),
        service text not null,
        status text not null check (status in ('PENDING', 'FIRING', 'ACKNOWLEDGED', 'RESOLVED')),
        severity text not null,
        value double precision not null,
        started_at timestamptz not null default now(),
        fired_at timestamptz,
        acknowledged_at timestamptz,
        acknowledged_by uuid references users (id) on delete set null,
        resolved_at timestamptz,
        updated_at timestamptz not null default now()
      );
      -- one open alert per rule and service, whoever evaluates
      create unique index alerts_open_idx on alerts (rule_id, service) where status <> 'RESOLVED';
      create index alerts_started_idx on alerts (started_at desc, id desc);
      create index alerts_status_started_idx on alerts (status, started_at desc, id desc);

      create table alert_notifications (
        id uuid primary key default gen_random_uuid(),
        alert_id uuid not null references alerts (id),
        channel text not null check (channel in ('slack', 'webhook', 'email')),
        event text not null check (event in ('FIRING', 'RESOLVED')),
        payload jsonb not null,
        status text not null default 'PENDING' check (status in ('PENDING', 'DELIVERED', 'FAILED')),
        attempts integer not null default 0,
        next_attempt_at timestamptz not null default now(),
        last_error text,
        created_at timestamptz not null default now(),
        delivered_at timestamptz
      );
      create index alert_notifications_due_idx on alert_notifications (next_attempt_at) where status = 'PENDING';
      create index alert_notifications_alert_idx on alert_notifications (alert_id, created_at);

      insert into alert_rules (name, metric, comparator, threshold, for_seconds, severity) values
        ('CPU above 80 %', 'cpu_percent', '>', 80, 60, 'HIGH'),
        ('Memory above 85 %', 'memory_percent', '>', 85, 60, 'CRITICAL'),
        ('p95 response time above 1000 ms', 'response_time_p95_ms', '>', 1000, 60, 'MEDIUM'),
        ('Error rate above 1 %', 'error_rate_percent', '>', 1, 60, 'HIGH'),
        ('Database connections above 80 % of the pool', 'db_connections_percent', '>', 80, 60, 'HIGH'),
        ('A component down', 'component_up', '<', 1, 0, 'CRITICAL');
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists alert_notifications, alerts, alert_rules, heartbeats, metrics cascade;');
  }
}
