import { Migration } from '@mikro-orm/migrations';

/**
 * A contact point's message template (LiquidJS, rendered with the alert's fields and escaped
 * for its channel); null: the channel's default, which says what the fixed text said before.
 */
export class Migration20261204181000_contact_point_template extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table contact_points add column template text');
  }

  override async down(): Promise<void> {
    this.addSql('alter table contact_points drop column template');
  }
}
