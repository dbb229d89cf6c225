import { readFile } from 'node:fs/promises';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE } from '../../src/app/schema-file.js';
import { buildAppSchema } from '../../src/app/schema.js';

describe('schema/schema.graphql', () => {
  it('should match the schema printed from the code (run `npm run schema` after changing the API)', async () => {
    const printed = printSchema(lexicographicSortSchema(await buildAppSchema())) + '\n';
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(printed);
  });

  it('should keep the names API.md promises', async () => {
    const sdl = await readFile(SCHEMA_FILE, 'utf8');
    for (const name of ['interface Node', 'scalar DateTime', 'type WorkflowConnection', 'claimTask(queue: String, queues: [String!], workerId: String): Task', 
      // (the schema file lists arguments alphabetically)
      'heartbeatTask(attempt: Int!, details: JSON, id: ID!): Task!', 'completeTask(attempt: Int, id: ID!, output: JSON): Task!', 'failTask(attempt: Int, error: String!, errorType: String, id: ID!): Task!', 'enum TaskStatus']) {
      expect(sdl).toContain(name);
    }
  });
});
