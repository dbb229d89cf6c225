/** `npm run schema`: writes schema/schema.graphql from the code. */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildAppSchema } from './app/schema.js';
import { SCHEMA_FILE } from './app/schema-file.js';

const schema = await buildAppSchema();
await writeFile(SCHEMA_FILE, printSchema(lexicographicSortSchema(schema)) + '\n');
console.log(`wrote ${SCHEMA_FILE}`);
