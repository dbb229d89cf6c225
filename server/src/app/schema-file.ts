import { inRepository } from '../core/paths.js';

/** Where the printed SDL lives: checked in, and compared against the code by a test. */
export const SCHEMA_FILE = inRepository('schema', 'schema.graphql');
