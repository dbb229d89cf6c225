import { Migration } from '@mikro-orm/migrations';

/**
 * Labels on alert rules and alerts (what notification routes, silences and inhibition rules
 * match on), and a rule's summary and runbook link for the messages. An alert keeps the labels
 * it opened with: severity, service, metric, rule (the rule's name) and the rule's own.
 */
export class Migration20261202235000_alert_labels extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table alert_rules
        add column labels jsonb not null default '{}',
        add column summary text,
        add column runbook_url text;
      alter table alerts add column labels jsonb not null default '{}';
      update alerts a set labels = jsonb_build_object('severity', a.severity, 'service', a.service, 'metric', r.metric, 'rule', r.name)
        from alert_rules r where r.id = a.rule_id;
    `);
  }

  override async down(): Promise<void> {
    this.addSql('alter table alerts drop column labels;');
    this.addSql('alter table alert_rules drop column labels, drop column summary, drop column runbook_url;');
  }
}
