import { Migration } from '@mikro-orm/migrations';

/**
 * The operations guide's inhibition, made once: while "A component down" fires for a
 * component, the other alerts of that service are not notified (a database outage pages
 * once, not once per dependent rule). Deleted by hand, it stays deleted.
 */
export class Migration20261203091500_default_inhibition extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      insert into inhibition_rules (source, target, equal) values (
        '[{"label": "metric", "op": "=", "value": "component_up"}]',
        '[{"label": "metric", "op": "!=", "value": "component_up"}]',
        '{service}');
    `);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from inhibition_rules where source = '[{"label": "metric", "op": "=", "value": "component_up"}]'::jsonb and equal = '{service}';`);
  }
}
