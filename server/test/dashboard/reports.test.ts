/**
 * The Reports page in Chromium, at 1,440 and 390 px: the figures, charts and capacity of seeded
 * samples, a custom range through the labelled inputs (refused when backwards), and the CSV.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { EntityManager } from '../../src/db/orm.js';
import { rollUp } from '../../src/metrics/rollups.js';
import { dashboardSuite } from '../support/browser.js';

const suite = dashboardSuite();
const HOUR = 3_600_000;
// Four whole hours that ended two hours ago: disk 50, 52, 54, 56 (hourly means), error rate 0.5 %.
const to = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const from = to - 4 * HOUR;

const fitsWindow = () => suite.browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
const localInput = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

async function seed(): Promise<void> {
  const em = () => suite.server.app.orm.em.fork() as EntityManager;
  for (let i = 0; i < 4; i++) {
    for (const [minute, delta] of [[10, -0.5], [40, 0.5]]) {
      const time = new Date(from + i * HOUR + minute * 60_000);
      await em().execute(`insert into metrics (name, service, instance, time, value) values ('disk_percent', 'api', 'h1', ?, ?), ('error_rate_percent', 'api', 'h1', ?, 0.5), ('response_time_p95_ms', 'api', 'h1', ?, ?)`,
        [time, 50 + 2 * i + delta, time, time, 100 + 10 * i]);
    }
  }
  await em().execute(`insert into alert_rules (name, metric, comparator, threshold, for_seconds, severity) values ('Disk above 90 %', 'disk_percent', '>', 90, 60, 'HIGH')`);
  // rolled up afresh so the seeded past is in the rollups
  await em().execute('delete from metric_rollups_minute; delete from metric_rollups_hour; delete from metric_rollups_day; delete from metric_rollup_state');
  for (let i = 0; i < 5 && (await rollUp(em())) > 0; i++);
}

describe('dashboard Reports page', () => {
  it('should show the figures, charts and capacity of a custom range, and refuse a backwards one', async () => {
    await seed();
    const { page } = suite.browser;
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(suite.server.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    await page.locator('[data-figure="disk"]').getByText('56.0 %').waitFor();

    await page.getByLabel('From', { exact: true }).fill(localInput(to));
    await page.getByLabel('To', { exact: true }).fill(localInput(from));
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('alert').getByText('The start must be before the end.').waitFor();
    expect(await page.getByLabel('From', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('From', { exact: true }).fill(localInput(from));
    await page.getByLabel('To', { exact: true }).fill(localInput(to));
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL((url) => url.searchParams.get('from') === new Date(from).toISOString() && url.searchParams.get('to') === new Date(to).toISOString());
    await page.locator('[data-figure="error-rate"]').getByText('0.50 %').waitFor();
    await page.locator('[data-figure="p95"]').getByText('115 ms').waitFor();
    // disk 50 … 56 over the range: y = 57 + 48·x days, so 90 % in (90 − 57) / 48 = 0.7 days
    await page.locator('[data-forecast="disk_percent"]').getByText('0.7 days').waitFor();
    expect(await page.locator('.charts canvas').count()).toBeGreaterThanOrEqual(3);
    await suite.browser.screenshot('reports-1440');
    expect(await fitsWindow()).toBe(true);
  });

  it('should download the report as CSV from the server (GET /api/export/report.csv)', async () => {
    const { page } = suite.browser;
    const link = page.getByRole('group', { name: 'Export the report' }).getByRole('link', { name: 'CSV' });
    expect(await link.getAttribute('href')).toBe(`/api/export/report.csv?from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe(`operations-report-${new Date(from).toISOString().slice(0, 10)}-to-${new Date(to).toISOString().slice(0, 10)}.csv`);
    const [header, ...rows] = (await readFile((await download.path())!, 'utf8')).trim().split('\r\n');
    expect(header).toBe('section,name,service,value,threshold,daysUntilThreshold,calls');
    expect(rows).toContain('summary,diskPercent,,56,,,');
    expect(rows).toContain('summary,errorRatePercent,,0.5,,,');
    expect(rows.find((row) => row.startsWith('capacity,disk_percent,api,56,90,'))).toMatch(/,0\.6875\d*,$/);

    // each chart's series downloads with the range (GET /api/export/metrics.csv)
    const disk = page.getByRole('group', { name: 'Export Disk' }).getByRole('link', { name: 'CSV' });
    expect(await disk.getAttribute('href')).toBe(`/api/export/metrics.csv?name=disk_percent&service=api&from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}`);
    const [series] = await Promise.all([page.waitForEvent('download'), disk.click()]);
    const [seriesHeader, ...points] = (await readFile((await series.path())!, 'utf8')).trim().split('\r\n');
    expect(seriesHeader).toBe('name,service,instance,time,value');
    expect(points.map((point) => point.split(',').slice(0, 3).join(','))).toEqual(new Array(8).fill('disk_percent,api,h1'));
  });

  it('should keep the page within a 390 px window', async () => {
    const { page } = suite.browser;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.locator('[data-figure="disk"]').getByText('56.0 %').waitFor();
    await suite.browser.screenshot('reports-390');
    expect(await fitsWindow()).toBe(true);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(suite.browser.consoleErrors).toEqual([]);
    expect(suite.browser.foreignRequests).toEqual([]);
  });
});
