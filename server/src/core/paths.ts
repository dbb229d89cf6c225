/**
 * The repository's root, found by walking up from this file: the same whether the server runs
 * from source (server/src/core/paths.ts) or compiled (server/dist/server/src/core/paths.js),
 * so files outside the server's tree (the schema, the dashboard's build and documents) are
 * found from either.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function repositoryRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'workflow-factory') return dir;
  }
  throw new Error('cannot find the repository root (the package.json named "workflow-factory") above the server');
}

export const REPOSITORY_ROOT = repositoryRoot();

/** A path inside the repository, from its root. */
export const inRepository = (...segments: string[]): string => path.join(REPOSITORY_ROOT, ...segments);
