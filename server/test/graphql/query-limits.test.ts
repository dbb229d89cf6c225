import { readdirSync, readFileSync } from 'node:fs';
import { buildSchema, getIntrospectionQuery, getNullableType, isInterfaceType, isListType, isObjectType, Kind, parse, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { checkQueryLimits, listBounds } from '../../src/graphql/query-limits.js';
import { buildAppSchema } from '../../src/app/schema.js';
import { codeOf, expectHealthy, postGraphQL } from '../support/hostile.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let strict: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = server.adminToken;
  // A second replica on the same database with tighter settings.
  strict = await startTestServer(
    { INTROSPECTION: '0', QUERY_MAX_DEPTH: '3', QUERY_MAX_ALIASES: '2', QUERY_MAX_TOKENS: '40', QUERY_MAX_DIRECTIVES: '1', QUERY_MAX_COST: '30' },
    server.database,
  );
});
afterAll(async () => {
  await strict?.stop();
  await server?.stop();
});

/** `as: null` sends the request anonymously. */
async function send(query: string, variables?: Record<string, unknown>, as: string | null = token, target = server) {
  const response = await postGraphQL(target, { query, variables }, as ?? undefined);
  return { status: response.status, body: response.json() };
}

async function expectLimit(query: string, setting: string, variables?: Record<string, unknown>, target = server) {
  const { status, body } = await send(query, variables, token, target);
  expect(status).toBe(400);
  expect(codeOf(body)).toBe('BAD_USER_INPUT');
  expect(body.errors[0].extensions.limit).toBe(setting);
  expect(body.errors[0].message).toContain(setting);
  expect(body.data).toBeUndefined();
  await expectHealthy(target);
}

/** `workflows(first: 1)` nested to exactly `depth` fields. */
function nested(depth: number): string {
  const inner = ['tasks', 'dependsOn', 'workflow'];
  let selection = 'id';
  for (let level = 4; level < depth; level++) selection = `${inner[(depth - level - 1) % 3]} { ${selection} }`;
  return `{ workflows(first: 1) { edges { node { ${selection} } } } }`;
}

describe('query limits', () => {
  describe('depth', () => {
    it('should allow a query 10 fields deep and refuse one 11 deep', async () => {
      // Lists nested that deep cost far more than QUERY_MAX_COST allows: a replica without that limit.
      const deep = await startTestServer({ QUERY_MAX_COST: String(Number.MAX_SAFE_INTEGER) }, server.database);
      try {
        expect((await send(nested(10), undefined, token, deep)).body.errors).toBeUndefined();
      } finally {
        await deep.stop();
      }
      await expectLimit(nested(11), 'QUERY_MAX_DEPTH');
    });

    it('should count fields inside fragments, however they are named', async () => {
      const query = `query { ...__schema }
        fragment __schema on Query { workflows(first: 1) { edges { node { ...Deep } } } }
        fragment Deep on Workflow { tasks { dependsOn { workflow { tasks { dependsOn { workflow { tasks { id } } } } } } } }`;
      await expectLimit(query, 'QUERY_MAX_DEPTH');
    });

    it('should not treat a field aliased __schema as introspection', async () => {
      await expectLimit(nested(11).replace('workflows(', '__schema: workflows('), 'QUERY_MAX_DEPTH');
    });

    it('should refuse a fragment cycle without hanging', async () => {
      const { status, body } = await send('{ viewer { ...A } } fragment A on User { id ...B } fragment B on User { name ...A }');
      expect(status).toBe(400);
      expect(codeOf(body)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(body.errors[0].message).toMatch(/Cannot spread fragment/);
      await expectHealthy(server);
    });
  });

  describe('aliases', () => {
    const aliased = (count: number) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: viewer { id }`).join(' ')} }`;

    it('should allow 30 aliases and refuse 31', async () => {
      expect((await send(aliased(30))).body.errors).toBeUndefined();
      await expectLimit(aliased(31), 'QUERY_MAX_ALIASES');
    });

    it('should count aliases once per fragment spread', async () => {
      const fragment = `fragment F on Query { ${Array.from({ length: 10 }, (_, i) => `f${i}: viewer { id }`).join(' ')} }`;
      expect((await send(`{ ...F ...F ...F } ${fragment}`)).body.errors).toBeUndefined();
      await expectLimit(`{ ...F ...F ...F ...F } ${fragment}`, 'QUERY_MAX_ALIASES');
    });

    it('should answer an exponential fragment bomb quickly with an error', async () => {
      const levels = 40;
      const fragments = [`fragment F0 on Query { a: viewer { id } }`];
      for (let i = 1; i <= levels; i++) fragments.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
      const started = Date.now();
      const { status, body } = await send(`{ ...F${levels} } ${fragments.join(' ')}`);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(status).toBe(400);
      expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(codeOf(body));
      await expectHealthy(server);
    });
  });

  describe('directives', () => {
    it('should allow 20 directives and refuse 21', async () => {
      const query = (count: number) => `{ viewer { id ${Array.from({ length: count }, (_, i) => `f${i % 20}: email @include(if: true)`).join(' ')} } }`;
      const within = await send(query(20));
      expect(within.body.errors).toBeUndefined();
      const { body } = await send(`{ viewer { ${Array.from({ length: 21 }, () => 'id @include(if: true)').join(' ')} } }`);
      expect(body.errors[0].extensions.limit).toBe('QUERY_MAX_DIRECTIVES');
      await expectHealthy(server);
    });
  });

  describe('cost', () => {
    // Per workflow up to 1,000 tasks, each back to its workflow's 1,000 tasks: about 3 million fields.
    const expensive = 'query ($n: Int) { workflows(first: $n) { edges { node { tasks { id workflow { tasks { id name status } } } } } } }';

    it('should multiply nested selections by first and refuse past the limit', async () => {
      await expectLimit('{ workflows(first: 100) { edges { node { tasks { dependsOn { dependsOn { id } } } } } } }', 'QUERY_MAX_COST');
    });

    it('should read first from the variables', async () => {
      expect((await send(expensive, { n: 1 })).body.errors).toBeUndefined();
      await expectLimit(expensive, 'QUERY_MAX_COST', { n: 100 });
    });

    it('should refuse recursive introspection', async () => {
      const query = '{ __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }';
      const { status, body } = await send(query);
      expect(status).toBe(400);
      expect(['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']).toContain(codeOf(body));
      await expectHealthy(server);
    });
  });

  describe('list bounds', () => {
    it('should know a bound for every list field, and refuse a schema with an unbounded one', async () => {
      const schema = await buildAppSchema();
      const bounds = listBounds(schema);
      let lists = 0;
      for (const type of Object.values(schema.getTypeMap())) {
        if (!isObjectType(type) && !isInterfaceType(type)) continue;
        for (const field of Object.values(type.getFields())) {
          const paged = field.args.some((arg) => arg.name === 'first');
          if (!isListType(getNullableType(field.type)) || paged) continue;
          lists++;
          expect(bounds.get(field), `${type.name}.${field.name}`).toBeGreaterThan(0);
        }
      }
      expect(lists).toBeGreaterThan(10);
      expect(bounds.get((schema.getType('Workflow') as GraphQLObjectType).getFields().tasks)).toBe(1000);
      expect(() => listBounds(buildSchema('type Query { names: [String!]! page(first: Int): [String!]! }'))).toThrow(/List fields without a bound.*Query\.names$/);
    });

    it('should multiply through back-references: a task\'s workflow\'s tasks', async () => {
      const query = 'query ($id: ID!) { workflow(id: $id) { tasks { workflow { tasks { workflow { tasks { id } } } } } } }';
      await expectLimit(query, 'QUERY_MAX_COST', { id: 'V29ya2Zsb3c6MA' });
      const { body } = await send(query, { id: 'V29ya2Zsb3c6MA' });
      expect(body.errors[0].extensions.actual).toBeGreaterThan(1000 ** 3);
    });

    it('should let every operation of the dashboard through the default limits', async () => {
      const folder = new URL('../../../client/src/lib/graphql/', import.meta.url);
      // One document: fragments are shared between the files.
      const document = parse(readdirSync(folder).filter((f) => f.endsWith('.graphql')).map((f) => readFileSync(new URL(f, folder), 'utf8')).join('\n'));
      const schema = await buildAppSchema();
      const { limits } = loadConfig({});
      const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      expect(operations.length).toBeGreaterThan(10);
      for (const operation of operations) {
        const refused = checkQueryLimits({ schema, document, operation, variables: { first: 100 }, viewer: { id: 'x' } as never }, limits);
        expect(refused?.message, operation.name?.value).toBeUndefined();
      }
    });
  });

  describe('tokens', () => {
    it('should stop parsing past 5000 tokens', async () => {
      const { status, body } = await send(`{ viewer { ${'id '.repeat(5000)} } }`);
      expect(status).toBe(400);
      expect(codeOf(body)).toBe('GRAPHQL_PARSE_FAILED');
      expect(body.errors[0].message).toBe('Query has more than 5000 tokens (QUERY_MAX_TOKENS)');
      await expectHealthy(server);
    });
  });

  describe('introspection', () => {
    it('should let a signed-in user run the explorer introspection query', async () => {
      const { body } = await send(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, specifiedByUrl: true, directiveIsRepeatable: true }));
      expect(body.errors).toBeUndefined();
      expect(body.data.__schema.queryType.name).toBe('Query');
    });

    it('should refuse introspection to anonymous callers, also when hidden in a fragment', async () => {
      for (const query of ['{ __schema { types { name } } }', '{ __type(name: "User") { name } }', '{ ...F } fragment F on Query { __schema { queryType { name } } }']) {
        const { status, body } = await send(query, undefined, null);
        expect(status).toBe(401);
        expect(codeOf(body)).toBe('UNAUTHENTICATED');
      }
      const typename = await send('{ __typename }', undefined, null);
      expect(typename.body.data).toEqual({ __typename: 'Query' });
    });

    it('should refuse introspection to everyone when INTROSPECTION=0', async () => {
      const { status, body } = await send('{ __schema { queryType { name } } }', undefined, token, strict);
      expect(status).toBe(403);
      expect(codeOf(body)).toBe('FORBIDDEN');
      expect(body.errors[0].message).toContain('INTROSPECTION');
    });
  });

  describe('settings', () => {
    it('should apply the configured limits', async () => {
      expect((await send('{ viewer { id } }', undefined, token, strict)).body.errors).toBeUndefined();
      await expectLimit('{ workflows { edges { node { id } } } }', 'QUERY_MAX_DEPTH', undefined, strict);
      await expectLimit('{ a: viewer { id } b: viewer { id } c: viewer { id } }', 'QUERY_MAX_ALIASES', undefined, strict);
      await expectLimit('{ viewer { id @include(if: true) name @include(if: true) } }', 'QUERY_MAX_DIRECTIVES', undefined, strict);
      await expectLimit('{ workflows(first: 10) { totalCount edges { cursor } } }', 'QUERY_MAX_COST', undefined, strict);
      const { body } = await send(`{ viewer { ${'id '.repeat(40)} } }`, undefined, token, strict);
      expect(body.errors[0].message).toBe('Query has more than 40 tokens (QUERY_MAX_TOKENS)');
    });
  });
});
