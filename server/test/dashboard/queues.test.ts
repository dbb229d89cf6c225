/**
 * The dashboard's Queues page in Chromium, at 1,440 and 390 px: reached from the nav, every
 * queue with its backlog, updated live (through taskQueueChanged) as tasks are readied, claimed
 * and finished through the API, with no reload; nothing wider than the window.
 */
import { describe, expect, it } from 'vitest';
import { dashboardSuite } from '../support/browser.js';
import { startedWorkflow } from '../support/workflows.js';

const suite = dashboardSuite();

const claim = async (queue: string) =>
  (await suite.server.gqlOk('mutation ($q: String) { claimTask(queue: $q) { id } }', { q: queue }, suite.server.adminToken)).claimTask as { id: string };
const cell = (queue: string, field: string) => suite.browser.page.locator(`tr[data-queue="${queue}"] [data-field="${field}"]`);
const LONG = `a-very-long-queue-name-${'x'.repeat(70)}`;

describe('dashboard Queues page', () => {
  it('should list every queue with its backlog, reached from the nav', async () => {
    const { page } = suite.browser;
    await startedWorkflow(suite.server, suite.server.adminToken, [{ name: 'a', queue: 'emails' }, { name: 'b', queue: 'emails' }, { name: 'c', queue: LONG }]);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queues' }).click();
    await page.getByRole('heading', { name: 'Queues' }).waitFor();
    await cell('emails', 'ready').getByText('2', { exact: true }).waitFor();
    expect(await cell(LONG, 'ready').textContent()).toBe('1');
    expect(await cell('emails', 'running').textContent()).toBe('0');
    expect(await page.locator('[data-total="ready"]').textContent()).toBe('3');
  });

  it('should follow claims, completions and new work live, without a reload', async () => {
    const { page } = suite.browser;
    await page.goto(`${suite.server.url}/queues`);
    await cell('emails', 'ready').getByText('2', { exact: true }).waitFor();
    // Marks the document: a reload would lose it.
    await page.evaluate(() => ((window as any).__notReloaded = true));
    const task = await claim('emails');
    await cell('emails', 'running').getByText('1', { exact: true }).waitFor();
    expect(await cell('emails', 'ready').textContent()).toBe('1');
    await suite.server.gqlOk('mutation ($id: ID!) { completeTask(id: $id) { id } }', { id: task.id }, suite.server.adminToken);
    await cell('emails', 'running').getByText('0', { exact: true }).waitFor();
    await startedWorkflow(suite.server, suite.server.adminToken, [{ name: 'n', queue: 'reports' }]);
    await cell('reports', 'ready').getByText('1', { exact: true }).waitFor();
    expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
  });

  it.each([1440, 390])('should fit a %i px wide window with the counts in view', async (width) => {
    const { page } = suite.browser;
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${suite.server.url}/queues`);
    await cell(LONG, 'ready').waitFor();
    await suite.browser.screenshot(`queues-${width}`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), `/queues at ${width} px`).toBe(true);
    // In view: not cut off by the table's scroll box either.
    const frame = (await page.locator('.table-wrap').boundingBox())!;
    for (const field of ['ready', 'running', 'delayed', 'age']) {
      const box = (await cell(LONG, field).boundingBox())!;
      expect(box.x + box.width, `${field} at ${width} px`).toBeLessThanOrEqual(Math.min(width, frame.x + frame.width));
    }
    expect(await cell(LONG, 'age').textContent()).toMatch(/\d+(\.\d)? (ms|s)|min/);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(suite.browser.consoleErrors).toEqual([]);
    expect(suite.browser.foreignRequests).toEqual([]);
  });
});
