/**
 * The run timeline on a workflow's page, in Chromium: a lane per task with each attempt's
 * queued and running time, a failed attempt and its retry on the same lane, a running attempt
 * growing to now, and the live page catching up with a claim made while it is open; at 1,440
 * and 390 px without scrolling sideways.
 */
import { describe, expect, it } from 'vitest';
import { dashboardSuite } from '../support/browser.js';
import { startedWorkflow } from '../support/workflows.js';

const suite = dashboardSuite({ RATE_LIMIT_PER_MINUTE: '0' });
const gql = (query: string, variables: Record<string, unknown> = {}) => suite.server.gqlOk(query, variables, suite.server.adminToken);
const claim = async (queue: string) => (await gql('mutation ($q: String!) { claimTask(queue: $q, workerId: "timeline-worker") { id attempts } }', { q: queue })).claimTask;
const fitsWindow = () => suite.browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);

describe('dashboard run timeline', () => {
  it('should draw every attempt of each task, queued then running, retries on the same lane, and follow new claims live', async () => {
    const { page } = suite.browser;
    const workflow = await startedWorkflow(suite.server, suite.server.adminToken, [
      { name: 'extract', queue: 'timeline', maxAttempts: 2 },
      { name: 'load', queue: 'timeline', dependsOn: ['extract'] },
    ], 'Timeline import');
    const first = await claim('timeline');
    await gql('mutation ($id: ID!) { failTask(id: $id, attempt: 1, error: "upstream down", errorType: "Upstream") { id } }', { id: first.id });
    const second = await claim('timeline');
    expect(second.attempts).toBe(2);
    await gql('mutation ($id: ID!) { completeTask(id: $id, attempt: 2) { id } }', { id: second.id });

    for (const width of [1440, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${suite.server.url}/workflows/${encodeURIComponent(workflow.id)}`);
      const timeline = page.locator('section', { has: page.getByRole('heading', { name: 'Timeline of runs' }) });
      await timeline.locator('[data-run="extract#2"]').waitFor({ state: 'attached' });
      expect(await timeline.locator('[data-run="extract#1"]').getAttribute('data-phase')).toBe('failed');
      expect(await timeline.locator('[data-run="extract#2"]').getAttribute('data-phase')).toBe('succeeded');
      expect(await timeline.locator('[data-run="extract#1"] title').last().textContent()).toMatch(/^extract, attempt 1: failed \(Upstream\)/);
      // The retry was queued from the failure on: its queued bar starts where the first attempt ended.
      const [failedEnd, retryQueued] = await Promise.all([
        timeline.locator('[data-run="extract#1"] rect.bar').evaluate((r) => r.getBoundingClientRect().right),
        timeline.locator('[data-run="extract#2"] rect').first().evaluate((r) => r.getBoundingClientRect().left),
      ]);
      expect(retryQueued).toBeGreaterThanOrEqual(failedEnd - 4);
      await timeline.getByText('lost or timed out').waitFor();
      expect(await fitsWindow()).toBe(true);
    }

    // Claimed while the page is open: the lane appears, running.
    const load = await claim('timeline');
    expect(load).not.toBeNull();
    const timeline = page.locator('section', { has: page.getByRole('heading', { name: 'Timeline of runs' }) });
    await timeline.locator('[data-run="load#1"][data-phase="running"]').waitFor({ state: 'attached', timeout: 10_000 });
    expect(await timeline.locator('[data-lane]').count()).toBe(2);
    expect(await fitsWindow()).toBe(true);
  });
});
