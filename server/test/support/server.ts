/**
 * Starts the real product (`startApp`) on a free port against a fresh database, and gives
 * tests a GraphQL client over real HTTP plus helpers to make users of each role.
 */
import 'reflect-metadata';
import { startApp, type App } from '../../src/app/start.js';
import { loadConfig } from '../../src/app/config.js';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { CliLoginDocument } from '../../../sdk/src/generated/graphql.js';

export const ADMIN = { email: 'admin@test.local', password: 'admin-password' };

export interface GraphQLResult<T = any> {
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; [key: string]: unknown } }>;
}

export interface TestServer {
  app: App;
  url: string;
  database: TestDatabase;
  adminToken: string;
  /** POSTs a GraphQL request; `token` signs it in. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResult<T>>;
  /** Like gql, but throws on any error: for setup steps. */
  gqlOk<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T>;
  login(email: string, password: string): Promise<string>;
  /** Creates a user of `role` (as the admin) and returns its id and a session token. */
  newUser(role: 'ADMIN' | 'MEMBER' | 'VIEWER', name?: string): Promise<{ id: string; email: string; token: string }>;
  stop(): Promise<void>;
}

let userCounter = 0;

/** `env` overrides settings, exactly as the environment would; `logger` captures the logs. */
export async function startTestServer(env: Record<string, string> = {}, database?: TestDatabase, logger?: Logger): Promise<TestServer> {
  const db = database ?? (await createTestDatabase());
  const config = loadConfig({
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'silent',
    DB_POOL_MAX: '10',
    DEMO: '0',
    // No notification routes to start with: tests make the ones they need (routing/defaults.test.ts tests the first start's).
    ALERT_DEFAULT_ROUTES: '0',
    // Background sampling and evaluation stay out of the way (and out of statement counts)
    // unless a test turns them on.
    SAMPLE_INTERVAL_SECONDS: '3600',
    ALERT_EVAL_INTERVAL_SECONDS: '3600',
    TASK_EXPIRY_INTERVAL_MS: '3600000',
    SCHEDULER_INTERVAL_MS: '3600000',
    // Delivery is poked when alerts open; its poll (retries) only where a test asks for it.
    ALERT_DELIVERY_INTERVAL_MS: '3600000',
    // Contact points' secrets: a fixed key, so no key file is left in the working directory.
    SECRETS_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
    ...env,
  });
  const app = await startApp(config, logger ?? createLogger(config.logLevel));
  const url = app.url;

  const gql = async (query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResult> => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return response.json() as Promise<GraphQLResult>;
  };
  const gqlOk = async (query: string, variables?: Record<string, unknown>, token?: string) => {
    const result = await gql(query, variables, token);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data;
  };
  // The wf CLI's sign-in: a trusted document, so it works with TRUSTED_DOCUMENTS=only too.
  const login = async (email: string, password: string) => (await gqlOk(String(CliLoginDocument), { email, password })).login.token as string;

  const adminToken = await login(ADMIN.email, ADMIN.password);
  const newUser = async (role: 'ADMIN' | 'MEMBER' | 'VIEWER', name = `${role.toLowerCase()}-${++userCounter}`) => {
    const email = `${name}-${Date.now()}-${userCounter}@test.local`;
    const data = await gqlOk(
      'mutation ($e: String!, $n: String!, $r: Role!) { createUser(email: $e, name: $n, password: "password-123", role: $r) { id } }',
      { e: email, n: name, r: role },
      adminToken,
    );
    return { id: data.createUser.id as string, email, token: await login(email, 'password-123') };
  };

  return {
    app, url, database: db, adminToken, gql, gqlOk, login, newUser,
    async stop() {
      await app.stop();
      if (!database) await db.drop();
    },
  };
}
