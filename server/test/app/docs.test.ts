/**
 * docs/API.md stays true: every setting config.ts reads has a row under "## Settings" and
 * every row names a setting it reads; every root field of the schema has a row under
 * "## Operations" and every row names one that exists; relative links lead to files of the
 * repository (a clone has nothing beside it).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { SCHEMA_FILE } from '../../src/app/schema-file.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCS = path.join(ROOT, 'docs/API.md');
const CONFIG = path.join(ROOT, 'server/src/app/config.ts');

/** The lines of the `## heading` section (up to the next `## `), or of a `### heading` inside it. */
function section(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const level = heading.match(/^#+/)![0];
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`docs/API.md has no "${heading}" heading`);
  const end = lines.findIndex((line, i) => i > start && /^#+ /.test(line) && line.match(/^#+/)![0].length <= level.length);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The backticked names in the first column of the table rows among `lines`. */
function firstColumnNames(lines: string[], name: RegExp): string[] {
  return lines
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1].matchAll(/`([^`]+)`/g)].map((m) => m[1].match(name)?.[0] ?? m[1]));
}

/** Every variable config.ts reads: those an empty environment is asked for, and any named in its source. */
async function settingsRead(): Promise<Set<string>> {
  const read = new Set<string>();
  loadConfig(new Proxy({}, { get: (_, key) => (typeof key === 'string' && read.add(key), undefined) }));
  // Settings read only when another one is set would not show above.
  const source = await readFile(CONFIG, 'utf8');
  for (const m of source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)|\benv\[\s*'([A-Z][A-Z0-9_]*)'|\(\s*env,\s*'([A-Z][A-Z0-9_]*)'/g)) read.add(m[1] ?? m[2] ?? m[3]);
  return read;
}

describe('docs/API.md', () => {
  it('should document every setting config.ts reads, and no other', async () => {
    const documented = new Set(firstColumnNames(section(await readFile(DOCS, 'utf8'), '## Settings'), /^[A-Z][A-Z0-9_]*$/));
    const read = await settingsRead();
    const undocumented = [...read].filter((name) => !documented.has(name));
    const unknown = [...documented].filter((name) => !read.has(name));
    expect([
      ...undocumented.map((name) => `${name} is read in server/src/app/config.ts but not documented: add a row "| \`${name}\` | meaning | default |" to the fitting table under "## Settings" in docs/API.md`),
      ...unknown.map((name) => `${name} is documented under "## Settings" in docs/API.md but server/src/app/config.ts does not read it: remove its row or fix its name`),
    ]).toEqual([]);
  });

  it('should document every query, mutation and subscription of the schema, and no other', async () => {
    const docs = section(await readFile(DOCS, 'utf8'), '## Operations').join('\n');
    const schema = buildSchema(await readFile(SCHEMA_FILE, 'utf8'));
    const problems: string[] = [];
    for (const [heading, type] of [['### Queries', schema.getQueryType()], ['### Mutations', schema.getMutationType()], ['### Subscriptions (WebSocket or Server-Sent Events)', schema.getSubscriptionType()]] as const) {
      const documented = new Set(firstColumnNames(section(docs, heading), /^\w+/));
      const fields = Object.keys(type!.getFields());
      for (const field of fields.filter((f) => !documented.has(f))) problems.push(`${type!.name}.${field} is in schema/schema.graphql but not documented: add a row to "${heading}" under "## Operations" in docs/API.md`);
      for (const name of [...documented].filter((d) => !fields.includes(d))) problems.push(`"${heading}" in docs/API.md documents ${name}, which ${type!.name} does not have: remove its row or fix its name`);
    }
    expect(problems).toEqual([]);
  });

  it('should link only to files inside the repository', async () => {
    const broken: string[] = [];
    for (const file of ['README.md', 'docs/API.md']) {
      const text = await readFile(path.join(ROOT, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const resolved = path.resolve(path.dirname(path.join(ROOT, file)), target);
        if (!resolved.startsWith(ROOT) || !existsSync(resolved)) broken.push(`${file} links to ${target}, which is not in the repository`);
      }
      for (const [mention] of text.matchAll(/\.\.\/shared\/[^\s`)]+/g)) broken.push(`${file} mentions ${mention}, which a clone does not have`);
    }
    expect(broken).toEqual([]);
  });
});
