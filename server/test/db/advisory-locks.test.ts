/** Advisory lock ids: one registry, no two jobs on the same lock, no id written anywhere else. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ADVISORY_LOCKS } from '../../src/db/advisory-locks.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

describe('advisory locks', () => {
  it('should give every job its own lock', () => {
    const ids = Object.values(ADVISORY_LOCKS);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('should take every lock id from the registry', async () => {
    const files = (await readdir(SRC, { recursive: true })).filter((file) => file.endsWith('.ts') && file !== path.join('db', 'advisory-locks.ts'));
    const literal = /advisory_(?:xact_)?(?:try_)?lock\w*\(\s*\d|7_?316_?\d{3}/;
    const offenders: string[] = [];
    for (const file of files) if (literal.test(await readFile(path.join(SRC, file), 'utf8'))) offenders.push(file);
    expect(offenders).toEqual([]);
  });
});
