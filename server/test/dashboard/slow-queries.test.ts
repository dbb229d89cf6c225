/**
 * The Slow queries page in Chromium, on the embedded PostgreSQL (which loads
 * pg_stat_statements), at 1,440 and 390 px: the slowest statements, a snapshot taken from the
 * page, and the trend against it once the statement got slower.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.js';
import { ensureClientBuild, openBrowser, signInThroughForm, type TestBrowser } from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { ADMIN, startTestServer, type TestServer } from '../support/server.js';

let dir: string;
let database: EmbeddedDatabase;
let server: TestServer;
let browser: TestBrowser;

beforeAll(async () => {
  ensureClientBuild();
  dir = await mkdtemp(path.join(os.tmpdir(), 'wf-slow-page-'));
  await chmod(dir, 0o755);
  database = await startEmbeddedPostgres(dir, await freePort(), createLogger('silent'));
  server = await startTestServer({}, { url: database.url, drop: async () => undefined });
  browser = await openBrowser(server.url);
  await signInThroughForm(browser.page, server.url, ADMIN);
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await server?.app.stop();
  await database?.stop();
  await rm(dir, { recursive: true, force: true });
});

const sleep = (seconds: number) => server.app.orm.em.fork().execute(`select pg_sleep(${seconds})`);
const fitsWindow = () => browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);

describe('dashboard Slow queries page', () => {
  it('should list the slowest statements, take a snapshot and show the trend since it', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1440, height: 900 });
    await server.app.orm.em.fork().execute('select pg_stat_statements_reset()');
    for (let i = 0; i < 2; i++) await sleep(0.05);
    await page.goto(server.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Slow queries' }).click();
    await page.getByRole('heading', { name: 'Slow queries', level: 1 }).waitFor();
    const row = page.locator('tr', { has: page.locator('code', { hasText: 'pg_sleep' }) });
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('2');

    await page.getByRole('button', { name: 'Take snapshot' }).click();
    await page.getByText('Snapshot taken: trends are measured from it.').waitFor();
    await page.waitForURL((url) => url.searchParams.has('since'));
    for (let i = 0; i < 2; i++) await sleep(0.15);
    await page.getByRole('button', { name: 'Refresh' }).click();
    // 4 calls in all, 2 since the snapshot at ≥ 150 ms against ~50 ms before: 200 % slower or so, marked worse
    await row.locator('td').nth(1).getByText('4').waitFor();
    expect(await row.locator('td').nth(6).textContent()).toBe('2');
    expect(Number(await row.locator('td').nth(7).textContent())).toBeGreaterThanOrEqual(150);
    const changed = row.locator('[data-change]');
    expect(await changed.textContent()).toMatch(/^\+\d+ %$/);
    expect(await changed.getAttribute('class')).toContain('worse');
    expect(await page.getByLabel('Trend since').inputValue()).toBe(new URL(page.url()).searchParams.get('since'));
    // the export link carries the comparison
    expect(await page.getByRole('group', { name: 'Export this list' }).getByRole('link', { name: 'CSV' }).getAttribute('href'))
      .toBe(`/api/export/slow-queries.csv?since=${encodeURIComponent(new URL(page.url()).searchParams.get('since')!)}`);
    await browser.screenshot('slow-queries-1440');
    expect(await fitsWindow()).toBe(true);
  });

  it('should keep the page within a 390 px window, and log no console errors', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.locator('tr', { has: page.locator('code', { hasText: 'pg_sleep' }) }).waitFor();
    await browser.screenshot('slow-queries-390');
    expect(await fitsWindow()).toBe(true);
    expect(browser.consoleErrors).toEqual([]);
    expect(browser.foreignRequests).toEqual([]);
  });
});
