import { Migration } from '@mikro-orm/migrations';

/**
 * The W3C `traceparent` of the request whose change readied a task (when it was traced), so
 * the worker that claims it can continue that trace. Null otherwise.
 */
export class Migration20261203155000_task_traceparent extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table tasks add column traceparent text');
  }

  override async down(): Promise<void> {
    this.addSql('alter table tasks drop column traceparent');
  }
}
