/**
 * Every migration, in order. Listed explicitly (not globbed) so the same list works under
 * the dev runner, vitest and a compiled build.
 */
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261127000000_core } from './Migration20261127000000_core.js';
import { Migration20261127100400_monitoring } from './Migration20261127100400_monitoring.js';
import { Migration20261202070000_audit } from './Migration20261202070000_audit.js';
import { Migration20261202073000_metric_rollups } from './Migration20261202073000_metric_rollups.js';
import { Migration20261202081500_idempotency } from './Migration20261202081500_idempotency.js';
import { Migration20261202090000_slow_query_snapshots } from './Migration20261202090000_slow_query_snapshots.js';
import { Migration20261202223000_task_leases } from './Migration20261202223000_task_leases.js';
import { Migration20261202233000_task_retries } from './Migration20261202233000_task_retries.js';
import { Migration20261202234500_incidents } from './Migration20261202234500_incidents.js';
import { Migration20261202235000_alert_labels } from './Migration20261202235000_alert_labels.js';
import { Migration20261202235500_contact_points } from './Migration20261202235500_contact_points.js';
import { Migration20261203080000_attempt_allowance } from './Migration20261203080000_attempt_allowance.js';
import { Migration20261203081000_templates } from './Migration20261203081000_templates.js';
import { Migration20261203083000_task_backlog } from './Migration20261203083000_task_backlog.js';
import { Migration20261203084500_notification_routing } from './Migration20261203084500_notification_routing.js';
import { Migration20261203090000_schedules } from './Migration20261203090000_schedules.js';
import { Migration20261203091500_default_inhibition } from './Migration20261203091500_default_inhibition.js';
import { Migration20261203153000_setup_steps } from './Migration20261203153000_setup_steps.js';
import { Migration20261203152000_metric_rollups_day } from './Migration20261203152000_metric_rollups_day.js';
import { Migration20261203152500_report_mails } from './Migration20261203152500_report_mails.js';
import { Migration20261203154000_run_ready_at } from './Migration20261203154000_run_ready_at.js';
import { Migration20261203155000_task_traceparent } from './Migration20261203155000_task_traceparent.js';
import { Migration20261204181000_contact_point_template } from './Migration20261204181000_contact_point_template.js';

export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261127000000_core', class: Migration20261127000000_core },
  { name: 'Migration20261127100400_monitoring', class: Migration20261127100400_monitoring },
  { name: 'Migration20261202070000_audit', class: Migration20261202070000_audit },
  { name: 'Migration20261202073000_metric_rollups', class: Migration20261202073000_metric_rollups },
  { name: 'Migration20261202081500_idempotency', class: Migration20261202081500_idempotency },
  { name: 'Migration20261202090000_slow_query_snapshots', class: Migration20261202090000_slow_query_snapshots },
  { name: 'Migration20261202223000_task_leases', class: Migration20261202223000_task_leases },
  { name: 'Migration20261202233000_task_retries', class: Migration20261202233000_task_retries },
  { name: 'Migration20261202234500_incidents', class: Migration20261202234500_incidents },
  { name: 'Migration20261202235000_alert_labels', class: Migration20261202235000_alert_labels },
  { name: 'Migration20261202235500_contact_points', class: Migration20261202235500_contact_points },
  { name: 'Migration20261203080000_attempt_allowance', class: Migration20261203080000_attempt_allowance },
  { name: 'Migration20261203081000_templates', class: Migration20261203081000_templates },
  { name: 'Migration20261203083000_task_backlog', class: Migration20261203083000_task_backlog },
  { name: 'Migration20261203084500_notification_routing', class: Migration20261203084500_notification_routing },
  { name: 'Migration20261203090000_schedules', class: Migration20261203090000_schedules },
  { name: 'Migration20261203091500_default_inhibition', class: Migration20261203091500_default_inhibition },
  { name: 'Migration20261203153000_setup_steps', class: Migration20261203153000_setup_steps },
  { name: 'Migration20261203152000_metric_rollups_day', class: Migration20261203152000_metric_rollups_day },
  { name: 'Migration20261203152500_report_mails', class: Migration20261203152500_report_mails },
  { name: 'Migration20261203154000_run_ready_at', class: Migration20261203154000_run_ready_at },
  { name: 'Migration20261203155000_task_traceparent', class: Migration20261203155000_task_traceparent },
  { name: 'Migration20261204181000_contact_point_template', class: Migration20261204181000_contact_point_template },
];
