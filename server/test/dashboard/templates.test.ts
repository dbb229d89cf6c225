/**
 * The dashboard's Templates pages in Chromium: a template made through the form (checked in the
 * browser, then by the server), a new version from the latest, both side by side with what
 * changed (tasks added, removed, changed), a run of an older version whose workflow page links
 * that version; at 1,440 and 390 px.
 */
import { describe, expect, it } from 'vitest';
import { dashboardSuite } from '../support/browser.js';

const suite = dashboardSuite({ RATE_LIMIT_PER_MINUTE: '0' });
const gql = (query: string, variables: Record<string, unknown> = {}) => suite.server.gqlOk(query, variables, suite.server.adminToken);
const fitsWindow = () => suite.browser.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);

describe('dashboard Templates pages', () => {
  it('should create a template through the form, saying why a graph is refused', async () => {
    const { page } = suite.browser;
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${suite.server.url}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('heading', { name: 'Templates', level: 1 }).waitFor();
    await page.getByText('No templates yet').waitFor();

    await page.getByLabel('Template name').fill('Nightly ETL');
    await page.getByLabel('Task 1 name').fill('extract');
    await page.getByRole('button', { name: 'Add task' }).click();
    await page.getByLabel('Task 2 name').fill('load');
    await page.getByLabel('Task 2 depends on').fill('extract, transform');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByText('“load” depends on “transform”, which is not a task here.').waitFor();
    // What only the server can tell: a queue name it refuses, named by field.
    await page.getByLabel('Task 2 depends on').fill('extract');
    await page.getByLabel('Task 2 queue').fill('no spaces allowed');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByRole('alert').filter({ hasText: 'tasks[1].queue' }).waitFor();
    await page.getByLabel('Task 2 queue').fill('etl');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByRole('heading', { name: 'Nightly ETL', level: 1 }).waitFor();

    const { templates } = await gql('{ templates(first: 5) { edges { node { name latestVersion versions(first: 1) { tasks { name dependsOn queue } } } } } }');
    expect(templates.edges).toEqual([{ node: { name: 'Nightly ETL', latestVersion: 1, versions: [{ tasks: [
      { name: 'extract', dependsOn: [], queue: 'default' },
      { name: 'load', dependsOn: ['extract'], queue: 'etl' },
    ] }] } }]);
  });

  it('should add a version from the latest and show both side by side with what changed', async () => {
    const { page } = suite.browser;
    await page.getByRole('button', { name: 'New version' }).click();
    // The form starts from version 1: change extract's queue, drop load, add check.
    expect(await page.getByLabel('Task 2 name').inputValue()).toBe('load');
    await page.getByLabel('Task 1 queue').fill('fast');
    await page.getByRole('button', { name: 'Remove task 2' }).click();
    await page.getByRole('button', { name: 'Add task' }).click();
    await page.getByLabel('Task 2 name').fill('check');
    await page.getByLabel('Task 2 depends on').fill('extract');
    await page.getByRole('button', { name: 'Save as version 2' }).click();
    await page.getByText('version 2', { exact: true }).waitFor();

    const summary = page.locator('[data-summary]');
    await summary.getByText('1 added, 1 removed, 1 changed.').waitFor();
    const older = page.locator('[data-side="older"]');
    const newer = page.locator('[data-side="newer"]');
    expect(await older.locator('h3').textContent()).toContain('v1');
    expect(await older.locator('[data-task="load"]').getAttribute('data-change')).toBe('removed');
    expect(await newer.locator('[data-task="check"]').getAttribute('data-change')).toBe('added');
    expect(await newer.locator('[data-task="extract"]').getAttribute('data-change')).toBe('changed');
    expect(await newer.locator('[data-task="extract"]').textContent()).toContain('queue: default → fast');
    expect(await newer.locator('[data-task="load"]').count()).toBe(0);
    expect(await page.locator('tr[data-version]').count()).toBe(2);
  });

  it('should run an older version, and its workflow page should link that version', async () => {
    const { page } = suite.browser;
    await page.getByRole('button', { name: 'Run v1' }).click();
    await page.getByRole('heading', { name: 'Nightly ETL', level: 1 }).waitFor();
    const origin = page.locator('[data-origin]');
    await origin.getByText('(the template is at v2 now)').waitFor();
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const { workflow } = await gql('query ($id: ID!) { workflow(id: $id) { status templateVersion tasks { name queue } } }', { id });
    expect(workflow).toEqual({ status: 'PENDING', templateVersion: 1, tasks: [{ name: 'extract', queue: 'default' }, { name: 'load', queue: 'etl' }] });

    await origin.getByRole('link', { name: 'Nightly ETL v1' }).click();
    await page.locator('tr[data-version="1"].asked').waitFor();
    expect(await page.locator('[data-side="newer"] h3').textContent()).toContain('v1');
  });

  it.each([1440, 390])('should keep the template pages within a %i px window', async (width) => {
    const { page } = suite.browser;
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${suite.server.url}/templates`);
    await page.locator('tr[data-template="Nightly ETL"]').waitFor();
    expect(await page.locator('tr[data-template="Nightly ETL"] [data-field="version"]').textContent()).toBe('v2');
    await suite.browser.screenshot(`templates-${width}`);
    expect(await fitsWindow(), `/templates at ${width} px`).toBe(true);
    await page.getByRole('link', { name: 'Nightly ETL' }).click();
    await page.locator('[data-summary]').getByText('1 added, 1 removed, 1 changed.').waitFor();
    await suite.browser.screenshot(`template-versions-${width}`);
    expect(await fitsWindow(), `a template's page at ${width} px`).toBe(true);
    // Side by side when there is room, one above the other on a phone.
    const [a, b] = [await page.locator('[data-side="older"]').boundingBox(), await page.locator('[data-side="newer"]').boundingBox()];
    expect(width > 600 ? b!.x > a!.x : b!.y > a!.y).toBe(true);
  });

  it('should log no console errors and request nothing from another host', () => {
    expect(suite.browser.consoleErrors).toEqual([]);
    expect(suite.browser.foreignRequests).toEqual([]);
  });
});
