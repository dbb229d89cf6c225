/** The query-limit walker (graphql/query-limits.ts) on a schema of the test's own, without a server. */
import { GraphQLInt, GraphQLList, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, getOperationAST, type GraphQLFieldConfigMap } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkQueryLimits, listBounds, type QueryLimits } from '../../src/graphql/query-limits.js';
import { Role, type Viewer } from '../../src/core/viewer.js';

const Item: GraphQLObjectType = new GraphQLObjectType({
  name: 'Item',
  fields: (): GraphQLFieldConfigMap<unknown, unknown> => ({
    id: { type: GraphQLString },
    // at most 10 children: the cost multiplies by 10 per level
    children: { type: new GraphQLList(Item), extensions: { maxItems: 10 } },
  }),
});
// A connection: its `first` counts the edges.
const ItemPage = new GraphQLObjectType({
  name: 'ItemPage',
  fields: { edges: { type: new GraphQLList(Item), extensions: { maxItems: 100 } } },
});
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      item: { type: Item },
      items: { type: new GraphQLList(Item), args: { first: { type: GraphQLInt } } },
      page: { type: ItemPage, args: { first: { type: GraphQLInt } } },
      // a plain list with `first` and a declared bound (as WorkflowTemplate.versions)
      latest: { type: new GraphQLList(Item), args: { first: { type: GraphQLInt } }, extensions: { maxItems: 50 } },
    },
  }),
});

const viewer: Viewer = { id: 'u', email: 'e', name: 'n', role: Role.ADMIN, credentialId: 'c', credentialKind: 'session', credentialName: null };
const limits: QueryLimits = { queryDepth: 5, queryAliases: 3, queryDirectives: 2, queryCost: 1000, introspection: true };

function check(query: string, variables?: Record<string, unknown>, as: Viewer | null = viewer, within: QueryLimits = limits) {
  const document = parse(query);
  const error = checkQueryLimits({ schema, document, operation: getOperationAST(document)!, variables, viewer: as }, within);
  return error && { code: error.extensions.code, limit: error.extensions.limit, actual: error.extensions.actual };
}

describe('query limits', () => {
  it('counts depth through fragments and refuses one level too deep', () => {
    const cheap = { ...limits, queryCost: Number.MAX_SAFE_INTEGER };
    expect(check('{ item { children { children { children { id } } } } }', undefined, viewer, cheap)).toBeNull();
    expect(check('{ item { ...F } } fragment F on Item { children { children { children { children { id } } } } }')).toMatchObject({ limit: 'QUERY_MAX_DEPTH', actual: 6 });
  });

  it('counts aliases once per spread of a fragment', () => {
    expect(check('{ a: item { id } b: item { id } c: item { id } }')).toBeNull();
    expect(check('{ item { ...F ...F } } fragment F on Item { x: id y: id }')).toMatchObject({ limit: 'QUERY_MAX_ALIASES', actual: 4 });
  });

  it('counts directives on fields, fragments and the operation', () => {
    expect(check('query Q @skip(if: false) { item { id @include(if: true) } }')).toBeNull();
    expect(check('query Q @skip(if: false) { item { id @include(if: true) ...F } } fragment F on Item @skip(if: false) { id }')).toMatchObject({ limit: 'QUERY_MAX_DIRECTIVES', actual: 3 });
  });

  it('multiplies the cost by a list\'s declared bound, and by first (also from variables)', () => {
    // item (1) + children: 1 + 10 × (children: 1 + 10 × id 1)
    expect(check('{ item { children { children { id } } } }', undefined, viewer, { ...limits, queryCost: 0 })).toMatchObject({ limit: 'QUERY_MAX_COST', actual: 1 + 1 + 10 * (1 + 10 * 1) });
    expect(check('query($n: Int) { items(first: $n) { id } }', { n: 999 })).toBeNull();
    // A connection's edges count once: its items are the page `first` already counted.
    expect(check('query($n: Int) { page(first: $n) { edges { id } } }', { n: 600 })).toMatchObject({ limit: 'QUERY_MAX_COST', actual: 1 + 600 * (1 + 1) });
    // A plain list's `first` counts its items, and the lists inside them count again.
    expect(check('query($n: Int) { items(first: $n) { id children { id } } }', { n: 100 })).toMatchObject({ limit: 'QUERY_MAX_COST', actual: 1 + 100 * (1 + 1 + 10 * 1) });
    // Without `first`, a list counts what it declares, a connection a default page (20).
    expect(check('{ latest { id } page { edges { id } } }', undefined, viewer, { ...limits, queryCost: 0 })).toMatchObject({ actual: 1 + 50 * 1 + 1 + 20 * (1 + 1) });
  });

  it('measures a fragment cycle without hanging', () => {
    expect(check('{ item { ...A } } fragment A on Item { id ...B } fragment B on Item { id ...A }')).toBeNull();
  });

  it('refuses introspection to anonymous callers and to everyone when it is off, also hidden in a fragment', () => {
    const query = '{ ...F } fragment F on Query { __schema { queryType { name } } }';
    expect(check(query, undefined, null)).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(check(query, undefined, viewer, { ...limits, introspection: false })).toMatchObject({ code: 'FORBIDDEN' });
    expect(check(query)).toBeNull();
    // A field aliased __schema is not introspection.
    expect(check('{ __schema: item { id } }', undefined, null)).toBeNull();
  });

  it('refuses a schema with a list that declares no bound', () => {
    const unbounded = new GraphQLSchema({ query: new GraphQLObjectType({ name: 'Query', fields: { names: { type: new GraphQLList(GraphQLString) } } }) });
    expect(() => listBounds(unbounded)).toThrow('List fields without a bound (declare @MaxItems): Query.names');
  });
});
