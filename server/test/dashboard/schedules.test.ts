/**
 * The dashboard's Schedules pages in Chromium: a schedule made through the form (the server's
 * refusal of a bad expression shown beside it), its upcoming slots in its time zone, pause and
 * resume, trigger now (and the overlap policy's refusal), a bounded backfill and the slot
 * history it leaves; at 1,440 and 390 px.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fireDueSchedules } from '../../src/schedules/firing.js';
import { dashboardSuite } from '../support/browser.js';
import { sqlOn } from '../support/database.js';

const suite = dashboardSuite({ RATE_LIMIT_PER_MINUTE: '0' });
const gql = (query: string, variables: Record<string, unknown> = {}) => suite.server.gqlOk(query, variables, suite.server.adminToken);
const fitsWindow = () => suite.browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
/** What a `datetime-local` input holds for `ms` (the browser runs in this process's zone). */
const local = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
let scheduleId = '';

describe('dashboard Schedules pages', () => {
  it('should create a schedule through the form, showing the server refusing a bad expression', async () => {
    const { page } = suite.browser;
    await gql('mutation { createTemplate(input: { name: "Hourly report", tasks: [{ name: "render" }] }) { id } }');
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${suite.server.url}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('heading', { name: 'Schedules', level: 1 }).waitFor();
    await page.getByText('No schedules yet').waitFor();
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByText('Choose the template to run.').waitFor();
    await page.getByLabel('Template').selectOption({ label: 'Hourly report' });
    await page.getByLabel('Cron expression').fill('61 * * * *');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByRole('alert').filter({ hasText: 'input.cron is not a valid cron expression' }).waitFor();
    await page.getByLabel('Time zone').fill('Mars/Olympus');
    await page.getByLabel('Cron expression').fill('0 * * * *');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByRole('alert').filter({ hasText: 'input.timezone must be an IANA time zone' }).waitFor();
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByRole('heading', { name: 'Upcoming slots' }).waitFor();
    scheduleId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);

    const { schedule } = await gql('query ($id: ID!) { schedule(id: $id) { cron timezone overlapPolicy paused upcoming(count: 10) } }', { id: scheduleId });
    expect(schedule).toMatchObject({ cron: '0 * * * *', timezone: 'Europe/Berlin', overlapPolicy: 'SKIP', paused: false });
    const shown = await page.locator('.upcoming li').allTextContents();
    expect(shown).toHaveLength(10);
    // Each slot on Berlin's clock (an hour on the hour there), with the zone's name.
    for (const text of shown) expect(text).toMatch(/:00.*GMT\+1|:00.*CET/);
  });

  it('should pause, resume and trigger a run now, saying why a second trigger is refused', async () => {
    const { page } = suite.browser;
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.heading [data-status="paused"]').waitFor();
    expect((await gql('query ($id: ID!) { schedule(id: $id) { paused nextRunAt } }', { id: scheduleId })).schedule).toEqual({ paused: true, nextRunAt: null });
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('.heading [data-status="active"]').waitFor();

    await page.getByRole('button', { name: 'Trigger now' }).click();
    await page.locator('[data-run]').first().waitFor();
    await page.getByText('1 in all, triggered ones too').waitFor();
    // SKIP with that run unfinished: the server's refusal, as a toast.
    await page.getByRole('button', { name: 'Trigger now' }).click();
    await page.getByText('A run of this schedule is still unfinished and its overlapPolicy is SKIP').waitFor();
    expect(await page.locator('[data-run]').count()).toBe(1);
  });

  it('should backfill within bounds and list the slots it ran in the history', async () => {
    const { page } = suite.browser;
    const now = Date.now();
    await page.getByLabel('From', { exact: true }).fill(local(now - 10 * 86_400_000));
    await page.getByLabel('To', { exact: true }).fill(local(now + 3_600_000));
    await page.getByRole('button', { name: 'Backfill' }).click();
    await page.getByText('The end may not be in the future').waitFor();
    await page.getByLabel('To', { exact: true }).fill(local(now - 60_000));
    await page.getByRole('button', { name: 'Backfill' }).click();
    await page.getByRole('alert').filter({ hasText: 'more than 100 slots' }).waitFor();
    // The three full hours before now (whole minutes, so from is after the hour it starts in).
    await page.getByLabel('From', { exact: true }).fill(local(now - 3 * 3_600_000 + 60_000));
    await page.getByRole('button', { name: 'Backfill' }).click();
    await page.getByText(/Backfilled [23] slots\./).waitFor();
    const rows = page.locator('tr[data-slot]');
    await rows.first().waitFor();
    const slots = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-slot')));
    const { schedule } = await gql('query ($id: ID!) { schedule(id: $id) { history { scheduledFor outcome workflow { status } } } }', { id: scheduleId });
    expect(slots).toEqual(schedule.history.map((r: any) => r.scheduledFor));
    expect(schedule.history.every((r: any) => r.outcome === 'STARTED' && r.workflow.status === 'PENDING')).toBe(true);
    expect(await rows.first().locator('[data-status="STARTED"]').count()).toBe(1);
  });

  it('should show a skipped slot in the list and the history', async () => {
    const { page } = suite.browser;
    // The next hour's slot, fired by hand while the triggered run is unfinished: SKIPPED.
    const uuid = Buffer.from(scheduleId, 'base64url').toString().split(':')[1];
    const [{ next }] = await sqlOn(suite.server.database.url, 'select next_run_at as next from schedules where id = $1', [uuid]);
    await fireDueSchedules(suite.server.app.services, new Date(next.getTime() + 1000));
    await page.goto(`${suite.server.url}/schedules`);
    await page.locator(`tr[data-schedule="${scheduleId}"] [data-status="SKIPPED"]`).waitFor();
    await page.getByRole('link', { name: 'Hourly report' }).click();
    await page.locator(`tr[data-slot="${next.toISOString()}"] [data-status="SKIPPED"]`).waitFor();
    // the whole slot history downloads from the server (GET /api/export/schedule-runs.csv?scheduleId=…)
    const link = page.getByRole('group', { name: 'Export the slot history' }).getByRole('link', { name: 'CSV' });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\r\n');
    expect(lines[0]).toBe('scheduledFor,outcome,error,workflowId,createdAt');
    expect(lines[1]).toMatch(new RegExp(`^${next.toISOString()},SKIPPED,,,`));
  });

  it.each([1440, 390])('should keep the schedule pages within a %i px window', async (width) => {
    const { page } = suite.browser;
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${suite.server.url}/schedules`);
    await page.locator(`tr[data-schedule="${scheduleId}"]`).waitFor();
    await suite.browser.screenshot(`schedules-${width}`);
    expect(await fitsWindow(), `/schedules at ${width} px`).toBe(true);
    await page.goto(`${suite.server.url}/schedules/${encodeURIComponent(scheduleId)}`);
    await page.locator('tr[data-slot]').first().waitFor();
    await suite.browser.screenshot(`schedule-${width}`);
    expect(await fitsWindow(), `a schedule's page at ${width} px`).toBe(true);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(suite.browser.consoleErrors).toEqual([]);
    expect(suite.browser.foreignRequests).toEqual([]);
  });
});
