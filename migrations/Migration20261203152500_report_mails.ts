import { Migration } from '@mikro-orm/migrations';

/**
 * The weekly operations report's mails: one row per REPORT_CRON slot, claimed by the replica
 * that sends it (reports/mail.ts), so each slot is mailed once whichever replicas run.
 */
export class Migration20261203152500_report_mails extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table report_mails (
        slot timestamptz primary key,
        period_from timestamptz not null,
        claimed_at timestamptz not null default now(),
        attempts integer not null default 1,
        sent_at timestamptz,
        last_error text
      );
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists report_mails;');
  }
}
