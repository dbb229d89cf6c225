/**
 * The layout's rules, checked on the import graph of server/src (parsed with the TypeScript
 * compiler API; type-only imports count too, since a reader follows them as well):
 * no import cycles, and the shared rooms (core/, db/, graphql/, http/, live/) import no domain
 * folder and not app/ — domains and the wiring build on them, never the other way round.
 * ARCHITECTURE.md explains the rooms.
 */
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const SHARED_ROOMS = ['core', 'db', 'graphql', 'http', 'live'];

/** file → the files under `root` it imports, all relative to `root` ('a/b.ts'). */
type ImportGraph = Map<string, string[]>;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => path.join(entry.parentPath, entry.name));
}

/** Module specifiers of static imports and re-exports, `import x = require()`, and `import('…')` with a literal. */
function specifiers(file: string, text: string): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      found.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  return found;
}

/** The import graph of the .ts files under `root`; imports leaving `root` (packages, ../migrations) are left out. */
async function importGraph(root: string): Promise<ImportGraph> {
  const graph: ImportGraph = new Map();
  for (const file of await sourceFiles(root)) {
    const targets = new Set<string>();
    for (const spec of specifiers(file, await readFile(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const resolved = path.resolve(path.dirname(file), spec);
      const target = [resolved.replace(/\.js$/, '.ts'), resolved + '.ts', path.join(resolved, 'index.ts')].find((candidate) => existsSync(candidate));
      if (target && !path.relative(root, target).startsWith('..')) targets.add(path.relative(root, target));
    }
    graph.set(path.relative(root, file), [...targets]);
  }
  return graph;
}

/** Every import cycle, as one closed path per strongly connected component ('a.ts → b.ts → a.ts'). */
function cycles(graph: ImportGraph): string[] {
  // Tarjan's strongly connected components; a component of more than one file, or a file importing itself, is a cycle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (file: string): void => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)!.includes(file)) components.push(component);
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) connect(file);
  return components.map((component) => closedPath(graph, new Set(component)));
}

/** One cycle through a component, found breadth-first from its first file (by name). */
function closedPath(graph: ImportGraph, component: Set<string>): string {
  const start = [...component].sort()[0];
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const target of graph.get(file)!) {
      if (!component.has(target)) continue;
      if (target === start) {
        const steps = [file];
        while (steps[0] !== start) steps.unshift(cameFrom.get(steps[0])!);
        return [...steps, start].join(' → ');
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, file);
        queue.push(target);
      }
    }
  }
  return [...component].join(' → ');
}

const roomOf = (file: string): string => (file.includes(path.sep) ? file.split(path.sep)[0] : file);

/** Methods of the ORM's entity manager and connection that send SQL (or queue it for a flush). */
const SQL_METHODS = new Set(['execute', 'findOne', 'findOneOrFail', 'findAll', 'persist', 'persistAndFlush', 'flush', 'nativeInsert', 'nativeUpdate', 'nativeDelete', 'upsert', 'createQueryBuilder', 'getKnex']);
/** db/ helpers that run a statement of their own. */
const SQL_HELPERS = new Set(['keysetPage', 'newestPerParent', 'ownedPage', 'ownedByIds', 'newestChildren']);

/** Lines of `text` that issue SQL: a call of an entity manager method that sends it, `em.find(Entity, …)`/`em.count(Entity, …)`, or a db/ helper that runs one. */
function sqlCalls(file: string, text: string): number[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const lines: number[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : null;
      const entityFirst = node.arguments[0] && ts.isIdentifier(node.arguments[0]) && /^[A-Z]/.test(node.arguments[0].text);
      const issues = ts.isPropertyAccessExpression(callee)
        ? SQL_METHODS.has(name!) || ((name === 'find' || name === 'count') && entityFirst)
        : ts.isIdentifier(callee) && SQL_HELPERS.has(name!);
      if (issues) lines.push(source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...new Set(lines)];
}

/**
 * Files of a domain room (not a shared room, not app/, not an entry file) that issue SQL
 * outside the domain's data-access module `rows.ts`.
 */
async function sqlOutsideRows(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const full of await sourceFiles(root)) {
    const file = path.relative(root, full);
    const room = roomOf(file);
    if (SHARED_ROOMS.includes(room) || room === 'app' || room === file || path.basename(file) === 'rows.ts') continue;
    if (sqlCalls(file, await readFile(full, 'utf8')).length) found.push(file.split(path.sep).join('/'));
  }
  return found.sort();
}

/**
 * Files that still issue their own SQL, each to move its statements into its domain's rows.ts
 * (ARCHITECTURE.md, "Data access"). The list may only shrink: a file converted must leave it,
 * and no file may join it.
 */
const NOT_YET_IN_ROWS: string[] = [
  'alerts/evaluator.ts', 'alerts/fallback/pager.ts', 'alerts/fallback/snapshot.ts', 'alerts/loaders.ts', 'alerts/notifications/contact-points.ts', 'alerts/notifications/outbox.ts', 'alerts/routing/defaults.ts', 'alerts/routing/dispatch.ts', 'alerts/routing/muting.ts', 'alerts/routing/silences.ts',
  'demo/seed.ts', 'demo/worker.ts',
  'metrics/ingest.ts', 'metrics/retention.ts', 'metrics/rollups.ts', 'metrics/series.ts',
  'reports/mail.ts', 'reports/service.ts',
  'schedules/runs.ts',
  'workflows/access.ts', 'workflows/bulk.ts', 'workflows/delayed-start.ts', 'workflows/events.ts', 'workflows/expiry.ts', 'workflows/export.ts', 'workflows/lifecycle.ts', 'workflows/loaders.ts', 'workflows/queues.ts', 'workflows/service.ts', 'workflows/task-loaders.ts',
];

/** Imports from a shared room into anything else under src: a domain folder, app/, or an entry file. */
function layerViolations(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [file, targets] of graph) {
    if (!SHARED_ROOMS.includes(roomOf(file))) continue;
    for (const target of targets) if (!SHARED_ROOMS.includes(roomOf(target))) violations.push(`${file} imports ${target}`);
  }
  return violations.sort();
}

describe('server/src layout', () => {
  it('should have no import cycles', async () => {
    expect(cycles(await importGraph(SRC))).toEqual([]);
  });

  it('should keep core/, db/, graphql/, http/ and live/ free of imports from domains and app/', async () => {
    expect(layerViolations(await importGraph(SRC))).toEqual([]);
  });

  it('should see every room of server/src (the check reads the real tree)', async () => {
    const rooms = new Set([...(await importGraph(SRC)).keys()].map(roomOf));
    for (const room of [...SHARED_ROOMS, 'app', 'workflows', 'users']) expect(rooms).toContain(room);
  });

  it('should keep the workflow lifecycle below the services that use it (neither service imports the other)', async () => {
    const graph = await importGraph(SRC);
    const imports = (file: string) => graph.get(path.join('workflows', file)) ?? [];
    expect(imports('service.ts')).not.toContain(path.join('workflows', 'task-service.ts'));
    expect(imports('task-service.ts')).not.toContain(path.join('workflows', 'service.ts'));
    for (const file of ['service.ts', 'task-service.ts']) expect(imports(file)).toContain(path.join('workflows', 'lifecycle.ts'));
    expect(imports('lifecycle.ts').filter((target) => /service\.ts$/.test(target))).toEqual([]);
  });

  it('should issue SQL in domain rooms only from their rows.ts (apart from the files not converted yet)', async () => {
    // A new file here: move its statements into its domain's rows.ts (ARCHITECTURE.md, "Data access").
    expect(await sqlOutsideRows(SRC), 'domain files issuing SQL outside rows.ts').toEqual(NOT_YET_IN_ROWS);
  });

  it('should keep resolvers free of SQL', async () => {
    expect((await sqlOutsideRows(SRC)).filter((file) => /resolver\.ts$/.test(file))).toEqual([]);
  });

  it('should keep rows.ts free of rules: no mutate, events or services', async () => {
    const graph = await importGraph(SRC);
    const ruled = [...graph].filter(([file]) => path.basename(file) === 'rows.ts')
      .flatMap(([file, targets]) => targets.filter((target) => roomOf(target) === 'live' || /service\.ts$/.test(target)).map((target) => `${file} imports ${target}`));
    expect(ruled).toEqual([]);
  });

  describe('on a tree that breaks the rules', () => {
    it('should name each domain file issuing SQL outside rows.ts, and only those', async () => {
      const root = await mkdtemp(path.join(os.tmpdir(), 'layout-sql-'));
      try {
        const files: Record<string, string> = {
          'db/pagination.ts': `export const keysetPage = (db: any) => db.execute('select 1');`,
          'app/start.ts': `export const start = (em: any) => em.execute('select 1');`,
          'things/rows.ts': `export const thingById = (db: any, id: string) => db.execute('select * from things where id = ?', [id]);`,
          'things/service.ts': `import { thingById } from './rows.js';\nexport const thing = (ctx: any, id: string) => thingById(ctx.read, id);`,
          'things/loaders.ts': `export const load = (em: any, ids: string[]) => em.getConnection().execute('select * from things');`,
          'things/resolver.ts': `import { keysetPage } from '../db/pagination.js';\nexport const list = (ctx: any) => keysetPage(ctx.read, {});`,
          'things/orm.ts': `export const one = (em: any, Thing: any) => em.find(Thing, {});\nexport const names = (list: string[]) => list.find((n) => n);`,
        };
        for (const [name, text] of Object.entries(files)) {
          await mkdir(path.dirname(path.join(root, name)), { recursive: true });
          await writeFile(path.join(root, name), text);
        }
        expect(await sqlOutsideRows(root)).toEqual(['things/loaders.ts', 'things/orm.ts', 'things/resolver.ts']);
        expect(sqlCalls('x.ts', files['things/orm.ts'])).toEqual([1]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    it('should name each cycle (type-only imports included) and each shared room importing a domain or app/', async () => {
      const root = await mkdtemp(path.join(os.tmpdir(), 'layout-'));
      try {
        const files: Record<string, string> = {
          'core/ok.ts': `export const ok = 1;`,
          'live/feed.ts': `import { ok } from '../core/ok.js';\nimport type { Thing } from '../workflows/service.js';\nexport const feed = (t: Thing) => ok;`,
          'http/cache.ts': `export async function load() { return import('../app/start.js'); }`,
          'workflows/service.ts': `import { task } from './task.js';\nexport type Thing = typeof task;`,
          'workflows/task.ts': `import type { Thing } from './service.js';\nexport const task = 1 as unknown as Thing;`,
          'app/start.ts': `export * from './context.js';`,
          'app/context.ts': `import '../live/feed.js';\nexport { start } from './start.js';`,
        };
        for (const [name, text] of Object.entries(files)) {
          await mkdir(path.dirname(path.join(root, name)), { recursive: true });
          await writeFile(path.join(root, name), text);
        }
        const graph = await importGraph(root);
        expect(cycles(graph).sort()).toEqual(['app/context.ts → app/start.ts → app/context.ts', 'workflows/service.ts → workflows/task.ts → workflows/service.ts']);
        expect(layerViolations(graph)).toEqual(['http/cache.ts imports app/start.ts', 'live/feed.ts imports workflows/service.ts']);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  });
});
