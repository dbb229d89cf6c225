/**
 * The report mail across two replicas on one database, into a real SMTP server: every
 * REPORT_CRON slot is mailed exactly once, whichever replica claims it; a send the server
 * refuses is tried again after REPORT_RETRY_SECONDS and then mailed once; REPORT_CRON is read
 * in REPORT_TIMEZONE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { createTestDatabase, sqlOn, type TestDatabase } from '../support/database.js';
import { startSmtpReceiver, type SmtpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { waitFor } from '../support/wait.js';

let database: TestDatabase;
let smtp: SmtpReceiver;
let a: TestServer;
let b: TestServer;

const env = (instance: string) => ({
  INSTANCE_ID: instance,
  SMTP_URL: smtp.url,
  ALERT_EMAIL_TO: 'oncall@test.local',
  REPORT_EMAIL_TO: 'reports@test.local',
  // a slot every 2 s, looked for every 50 ms by both replicas
  SCHEDULE_SECONDS: '1',
  REPORT_CRON: '*/2 * * * * *',
  SCHEDULER_INTERVAL_MS: '50',
});

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpReceiver();
  a = await startTestServer(env('replica-a'), database);
  b = await startTestServer(env('replica-b'), database);
});
afterAll(async () => {
  await a?.app.stop().catch(() => undefined);
  await b?.app.stop().catch(() => undefined);
  await smtp?.close();
  await database?.drop();
});

const sql = (query: string, params: unknown[] = []) => sqlOn(database.url, query, params);
const header = (raw: string, name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(raw)?.[1].trim();

describe('the report mail', () => {
  it('should mail each slot once across two replicas, with the report of the period since the slot before', async () => {
    // every 50 ms for 3 s, a replica asks about each slot once (not at every look)
    const claims = await countStatements(a.app, () => new Promise((resolve) => setTimeout(resolve, 3000)));
    expect(claims.sql.filter((statement) => statement.includes('insert into report_mails')).length).toBeLessThanOrEqual(3);
    await waitFor('four slots mailed', async () => (await sql('select count(*)::int as n from report_mails where sent_at is not null'))[0].n >= 4, 30_000);
    await Promise.all([a.app.stop(), b.app.stop()]);
    const sent = await sql('select slot, period_from, attempts, last_error from report_mails where sent_at is not null order by slot');
    const slots = smtp.mails.map((mail) => header(mail.raw, 'X-Report-Slot'));
    // one mail per sent slot, none twice
    expect(new Set(slots).size).toBe(slots.length);
    expect([...slots].sort()).toEqual(sent.map((row: any) => new Date(row.slot).toISOString()));
    for (const row of sent) {
      expect(new Date(row.slot).getTime() - new Date(row.period_from).getTime()).toBe(2000);
      expect([row.attempts, row.last_error]).toEqual([1, null]);
    }
    const [mail] = smtp.mails;
    expect(mail.to).toEqual(['reports@test.local']);
    expect(header(mail.raw, 'Subject')).toMatch(/^Operations report \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d$/);
    const body = mail.raw.replace(/=\r?\n/g, '');
    expect(body).toContain('Operations report, ');
    expect(body).toMatch(/Alerts fired: 0 \(mean time to acknowledge none, to resolve none\)/);
    expect(body).toContain('Workflows: 0 succeeded, 0 failed');
  });

  it('should refuse REPORT_EMAIL_TO without SMTP_URL, and a bad REPORT_CRON, at start', () => {
    expect(() => loadConfig({ REPORT_EMAIL_TO: 'a@b.c' })).toThrow('Invalid setting REPORT_EMAIL_TO: needs SMTP_URL');
    expect(() => loadConfig({ REPORT_CRON: '61 8 * * 1' })).toThrow(/^Invalid setting REPORT_CRON: is not a valid cron expression/);
    expect(() => loadConfig({ REPORT_CRON: '*/2 * * * * *' })).toThrow(/^Invalid setting REPORT_CRON/);
    expect(loadConfig({}).reportCron).toBe('0 8 * * 1');
    expect(() => loadConfig({ REPORT_TIMEZONE: 'Mars/Olympus' })).toThrow('Invalid setting REPORT_TIMEZONE: expected an IANA time zone such as Europe/Berlin or UTC');
    expect(() => loadConfig({ REPORT_RETRY_SECONDS: '0' })).toThrow(/^Invalid setting REPORT_RETRY_SECONDS/);
    expect(loadConfig({ REPORT_TIMEZONE: 'europe/berlin' }).reportTimezone).toBe('Europe/Berlin');
    expect([loadConfig({}).reportTimezone, loadConfig({}).reportRetrySeconds]).toEqual(['UTC', 300]);
  });
});

describe('a refused report mail', () => {
  let retryDatabase: TestDatabase;
  let refusing: SmtpReceiver;
  const replicas: TestServer[] = [];
  // Asia/Kolkata is UTC+05:30 all year: its midnight is 18:30 UTC, never a whole UTC hour.
  const OFFSET_MS = 5.5 * 3_600_000;

  beforeAll(async () => {
    retryDatabase = await createTestDatabase();
    refusing = await startSmtpReceiver({ refuseFirst: 1 });
    const settings = (instance: string) => ({
      INSTANCE_ID: instance, SMTP_URL: refusing.url, ALERT_EMAIL_TO: 'oncall@test.local', REPORT_EMAIL_TO: 'reports@test.local',
      // daily at local midnight: the newest slot (under a day old) is due at once
      REPORT_CRON: '0 0 * * *', REPORT_TIMEZONE: 'Asia/Kolkata', REPORT_RETRY_SECONDS: '1', SCHEDULER_INTERVAL_MS: '50',
    });
    replicas.push(await startTestServer(settings('retry-a'), retryDatabase), await startTestServer(settings('retry-b'), retryDatabase));
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.app.stop().catch(() => undefined);
    await refusing?.close();
    await retryDatabase?.drop();
  });

  it('should try again after REPORT_RETRY_SECONDS and mail it once, at REPORT_CRON in REPORT_TIMEZONE', async () => {
    const rows = () => sqlOn(retryDatabase.url, 'select slot, attempts, sent_at, last_error from report_mails');
    await waitFor('the slot mailed', async () => (await rows()).some((row: any) => row.sent_at), 30_000);
    // the lease of a refused send is 1 s, not the 10 minutes a replica that died mid-send gets: both replicas had 2 s more to send it again
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const [row, ...others] = await rows();
    expect(others).toEqual([]);
    const midnight = Math.floor((Date.now() + OFFSET_MS) / 86_400_000) * 86_400_000 - OFFSET_MS;
    expect(new Date(row.slot).toISOString()).toBe(new Date(midnight).toISOString());
    expect(new Date(row.slot).toISOString()).toMatch(/T18:30:00\.000Z$/);
    expect([row.attempts, row.last_error]).toEqual([2, null]);
    expect(refusing.refused).toBe(1);
    expect(refusing.mails.map((mail) => header(mail.raw, 'X-Report-Slot'))).toEqual([new Date(midnight).toISOString()]);
  });
});
