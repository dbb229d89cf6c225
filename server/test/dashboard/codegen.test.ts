import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../../codegen.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('dashboard codegen', () => {
  it('should match the committed typed documents (run `npm run codegen` when this fails)', async () => {
    const outputs: Array<{ filename: string; content: string }> = await generate({ ...config, cwd: ROOT, silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    const dirs = new Set<string>();
    for (const output of outputs) {
      const file = path.resolve(ROOT, output.filename);
      dirs.add(path.dirname(file));
      const committed = await readFile(file, 'utf8').catch(() => null);
      expect(committed, `${output.filename} is stale`).toBe(output.content);
    }
    // No leftover file from an operation that was removed.
    for (const dir of dirs) {
      const generated = new Set(outputs.map((o) => path.resolve(ROOT, o.filename)).filter((f) => path.dirname(f) === dir));
      const present = (await readdir(dir)).map((name) => path.join(dir, name));
      expect(present.filter((f) => !generated.has(f))).toEqual([]);
    }
  });
});
