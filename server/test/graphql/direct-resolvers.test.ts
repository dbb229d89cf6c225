import 'reflect-metadata';
import { isObjectType, type GraphQLResolveInfo } from 'graphql';
import { describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/core/ids.js';
import { asInstance } from '../../src/db/sql.js';
import { buildAppSchema } from '../../src/app/schema.js';
import { Task } from '../../src/workflows/task-entity.js';

const ID = '2b1c9f3e-8d4a-4f6b-9c2d-1e3f5a7b9c0d';

describe('field resolvers called directly', () => {
  it('should answer like type-graphql for instances, and leave other roots to its wrapper', async () => {
    const schema = await buildAppSchema();
    const type = schema.getType('Task');
    if (!isObjectType(type)) throw new Error('no Task type');
    const { id, durationMs } = type.getFields();
    const info = {} as GraphQLResolveInfo;
    const task = asInstance(Task, { id: ID, startedAt: new Date(1_000), finishedAt: new Date(3_500) } as Task);
    expect(id.resolve!(task, {}, {}, info)).toBe(toGlobalId('Task', ID));
    expect(durationMs.resolve!(task, {}, {}, info)).toBe(2_500);
    // A plain object is converted to a Task by the wrapper first (the direct call would not).
    expect(durationMs.resolve!({ id: ID, startedAt: new Date(0), finishedAt: new Date(10) }, {}, {}, info)).toBe(10);
  });
});
