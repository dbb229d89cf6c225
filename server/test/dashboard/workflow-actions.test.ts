/**
 * Delayed starts and bulk actions on the dashboard's workflows pages, in Chromium: a delayed
 * start shows as scheduled on the list and the workflow's page and is cancelled there before it
 * starts; the bulk bar counts what the list's filter matches (a dry run), runs batch by batch
 * with its progress, and stops between two batches. The stop is made certain, not raced: the
 * test holds a row of the second batch locked, so that batch waits while Stop is pressed; at
 * 1,440 and 390 px.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { dashboardSuite } from '../support/browser.js';
import { sqlOn } from '../support/database.js';
import { newWorkflow } from '../support/workflows.js';

const suite = dashboardSuite({ RATE_LIMIT_PER_MINUTE: '0' });
const gql = (query: string, variables: Record<string, unknown> = {}) => suite.server.gqlOk(query, variables, suite.server.adminToken);
const sql = (statement: string, params: unknown[] = []) => sqlOn(suite.server.database.url, statement, params);
const fitsWindow = () => suite.browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
const statusOf = async (id: string) => (await gql('query ($id: ID!) { workflow(id: $id) { status scheduledFor } } ', { id })).workflow;
const local = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

describe('dashboard workflow actions', () => {
  it('should show a delayed start as scheduled on the list and cancel it from its row', async () => {
    const { page } = suite.browser;
    const draft = await newWorkflow(suite.server, suite.server.adminToken, [{ name: 'a' }], 'Later report');
    const at = new Date(Date.now() + 2 * 3_600_000).toISOString();
    await gql('mutation ($id: ID!, $at: DateTime) { startWorkflow(id: $id, at: $at) { id } }', { id: draft.id, at });
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${suite.server.url}/workflows`);
    const row = page.locator('tr[data-workflow="Later report"]');
    await row.locator('[data-status="scheduled"]').waitFor();
    await row.getByText('starts').waitFor();
    await row.getByRole('button', { name: 'Cancel the scheduled start of Later report' }).click();
    await row.locator('[data-status="CANCELLED"]').waitFor();
    expect((await statusOf(draft.id)).status).toBe('CANCELLED');
  });

  it("should schedule a draft's start from its page and cancel it there before it starts", async () => {
    const { page } = suite.browser;
    const draft = await newWorkflow(suite.server, suite.server.adminToken, [{ name: 'a' }], 'Deferred import');
    await page.goto(`${suite.server.url}/workflows/${encodeURIComponent(draft.id)}`);
    await page.getByLabel('Start at').fill(local(Date.now() - 60_000));
    await page.getByRole('button', { name: 'Start later' }).click();
    await page.getByText('Choose a time in the future').waitFor();
    await page.getByLabel('Start at').fill(local(Date.now() + 3 * 3_600_000));
    await page.getByRole('button', { name: 'Start later' }).click();
    await page.getByText('Scheduled to start at').waitFor();
    expect((await statusOf(draft.id)).status).toBe('DRAFT');
    expect(Date.parse((await statusOf(draft.id)).scheduledFor)).toBeGreaterThan(Date.now() + 2 * 3_600_000);
    await page.getByRole('button', { name: 'Cancel scheduled start' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel workflow' }).click();
    await page.locator('.heading [data-status="CANCELLED"]').waitFor();
    expect((await statusOf(draft.id)).status).toBe('CANCELLED');
  });

  it('should count, run batch by batch with its progress, and stop between batches', async () => {
    const { page } = suite.browser;
    const [{ id: admin }] = await sql("select id from users where email = 'admin@test.local'");
    await sql(
      `insert into workflows (owner_id, name, status, created_at, updated_at)
       select $1, 'bulk-' || lpad(i::text, 3, '0'), 'DRAFT', now() + i * interval '1 millisecond', now() from generate_series(1, 250) i`,
      [admin],
    );
    await page.goto(`${suite.server.url}/workflows?q=bulk-`);
    await page.getByRole('button', { name: 'Count' }).click();
    await page.getByText('250 workflows match.').waitFor();

    // The second batch (workflows 101–200, oldest first) waits on a row the test holds.
    const holder = new pg.Client({ connectionString: suite.server.database.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query("select id from workflows where name = 'bulk-150' for update");
      await page.getByRole('button', { name: 'Cancel 250' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel', exact: true }).click();
      await page.locator('[data-bulk-progress]').getByText('100 of 250 cancelled').waitFor();
      await page.getByRole('button', { name: 'Stop' }).click();
      await page.getByText('stopping after this batch').waitFor();
      expect(await page.locator('progress').getAttribute('value')).toBe('100');
      await holder.query('commit');
    } finally {
      await holder.end();
    }
    await page.locator('[data-bulk-status="stopped"]').getByText('200 of 250 cancelled').waitFor();
    expect(await sql("select status, count(*)::int as n from workflows where name like 'bulk-%' group by status order by status")).toEqual([
      { status: 'CANCELLED', n: 200 }, { status: 'DRAFT', n: 50 },
    ]);

    // The rest: counted again, run to the end.
    await page.getByRole('button', { name: 'Count' }).click();
    await page.getByText('50 workflows match.').waitFor();
    await page.getByRole('button', { name: 'Cancel 50' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.locator('[data-bulk-status="done"]').getByText('50 of 50 cancelled').waitFor();
    expect(await sql("select count(*)::int as n from workflows where name like 'bulk-%' and status = 'DRAFT'")).toEqual([{ n: 0 }]);
    // Nothing left for the action: counted, not runnable.
    await page.getByRole('button', { name: 'Count' }).click();
    await page.getByText('No workflow here that this action applies to.').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel 0', exact: true }).isDisabled()).toBe(true);
  });

  it.each([1440, 390])('should keep the bulk bar and the list within a %i px window', async (width) => {
    const { page } = suite.browser;
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${suite.server.url}/workflows?q=bulk-`);
    await page.locator('tr[data-workflow="bulk-250"]').waitFor();
    await page.getByRole('button', { name: 'Count' }).waitFor();
    await suite.browser.screenshot(`workflows-bulk-${width}`);
    expect(await fitsWindow(), `/workflows at ${width} px`).toBe(true);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(suite.browser.consoleErrors).toEqual([]);
    expect(suite.browser.foreignRequests).toEqual([]);
  });
});
