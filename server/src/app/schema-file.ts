import { fileURLToPath } from 'node:url';

/** Where the printed SDL lives: checked in, and compared against the code by a test. */
export const SCHEMA_FILE = fileURLToPath(new URL('../../../schema/schema.graphql', import.meta.url));
