/**
 * Every migration, in order. Listed explicitly (not globbed) so the same list works under
 * the dev runner, vitest and a compiled build.
 */
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261127000000_core } from './Migration20261127000000_core.js';
import { Migration20261127100400_monitoring } from './Migration20261127100400_monitoring.js';

export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261127000000_core', class: Migration20261127000000_core },
  { name: 'Migration20261127100400_monitoring', class: Migration20261127100400_monitoring },
];
