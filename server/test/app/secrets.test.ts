import { Writable } from 'node:stream';
import { getNamedType, isInputObjectType, isObjectType, isInterfaceType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { createLogger } from '../../src/core/logger.js';
import { buildAppSchema } from '../../src/app/schema.js';

const SECRET = 'sEcReT-value-42';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('info', stream), text: () => lines.join('') };
}

describe('secrets', () => {
  it('should redact tokens, passwords, webhook secrets and credentials in URLs from logs', () => {
    const { logger, text } = capture();
    const config = loadConfig({
      DATABASE_URL: `postgres://app:${SECRET}@db/app`,
      DATABASE_DIRECT_URL: `postgres://app:${SECRET}@db-direct/app`,
      REDIS_URL: `redis://:${SECRET}@redis:6379`,
      SMTP_URL: `smtp://mailer:${SECRET}@mail:25`,
      ALERT_EMAIL_TO: 'ops@example.com',
      ALERT_WEBHOOK_URL: 'https://hooks.example/alert',
      ALERT_WEBHOOK_SECRET: SECRET,
      SLACK_WEBHOOK_URL: `https://hooks.slack.example/services/${SECRET}`,
      METRICS_TOKEN: SECRET,
      ADMIN_EMAIL: 'admin@example.com',
      ADMIN_PASSWORD: SECRET,
    });
    logger.info({ config }, 'settings');
    logger.info({ token: SECRET, password: SECRET }, 'top level');
    logger.info({ viewer: { token: SECRET }, login: { password: SECRET } }, 'one level down');
    logger.info({ req: { headers: { authorization: `Bearer ${SECRET}`, cookie: `wf_session=${SECRET}` } } }, 'request');
    logger.info({ headers: { authorization: `Bearer ${SECRET}` }, variables: { input: { password: SECRET } } }, 'graphql');
    const output = text();
    expect(output).toContain('[redacted]');
    expect(output).toContain('settings');
    expect(output).not.toContain(SECRET);
  });

  it('should expose no hash, password or secret field in any API output type', async () => {
    const schema = await buildAppSchema();
    const exposed: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || isInputObjectType(type) || !(isObjectType(type) || isInterfaceType(type))) continue;
      for (const field of Object.values(type.getFields())) {
        if (/hash|password|secret/i.test(field.name) || /hash|secret/i.test(getNamedType(field.type).name)) exposed.push(`${type.name}.${field.name}`);
      }
    }
    expect(exposed).toEqual([]);
  });
});
