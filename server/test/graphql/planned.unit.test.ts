/** Query plans on a small graphql-js schema: where they must give up rather than answer differently from graphql-js. */
import { GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { executePlan, PLAN_FAILED, planQuery } from '../../src/graphql/planned.js';

describe('query plans', () => {
  it('should give up where graphql-js would wait: promises as list items or as properties, and a __proto__ alias', async () => {
    const Item = new GraphQLObjectType({ name: 'Item', fields: { name: { type: GraphQLString } } });
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          items: { type: new GraphQLNonNull(new GraphQLList(Item)), resolve: () => [{ name: 'a' }, Promise.resolve({ name: 'b' })] },
          names: { type: new GraphQLList(GraphQLString), resolve: () => ['a', Promise.resolve('b')] },
          item: { type: Item, resolve: () => ({ name: Promise.resolve('lazy') }) },
          plain: { type: Item, resolve: () => ({ name: 'plain' }) },
        },
      }),
    });
    const run = (query: string) => executePlan(schema, planQuery(schema, parse(query), undefined)!, {}, {});
    await expect(run('{ plain { name } }')).resolves.toEqual({ plain: { name: 'plain' } });
    for (const query of ['{ items { name } }', '{ names }', '{ item { name } }']) await expect(run(query), query).rejects.toBe(PLAN_FAILED);
    expect(planQuery(schema, parse('{ __proto__: plain { name } }'), undefined)).toBeNull();
  });
});
