/**
 * Planned execution of queries: each document is planned once into a tree of selection shapes,
 * and executed breadth-first, one level of the answer at a time. Every field of a level is
 * resolved for all of its objects in one loop (the same schema resolvers, guards and loaders
 * as any other execution, so the same visibility and the same batched statements), leaves are
 * read and serialized in place, and each answer object is made with all its keys at once by a
 * constructor compiled for its selection. There is no response path, resolve info or closure
 * per resolved value, which is most of what a per-field executor (graphql-jit) allocates on a
 * list of a thousand objects.
 *
 * Planned: queries whose selections are plain fields of object types, named and inline
 * fragments on the same type, `__typename`, arguments and variables, lists of objects or of
 * leaves. Not planned (the document goes to graphql-jit as before): directives, abstract types
 * (interfaces, unions), nested lists, a response key selected twice, introspection fields.
 *
 * Only a clean answer is given: when anything goes wrong while a plan runs (a resolver throws
 * or rejects, a non-null field is null, a leaf does not serialize, a guard stops it), the plan
 * gives up with `PLAN_FAILED` and the caller runs the document on graphql-jit, whose answer
 * carries the errors with their paths, exactly as without plans. Loaders keep what they read,
 * so the second run reads nothing twice.
 */
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLLeafType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** Thrown (and caught by the caller) when a plan cannot give a clean answer. */
export const PLAN_FAILED = Symbol('plan failed');

interface FieldPlan {
  key: string;
  name: string;
  node: FieldNode;
  field: GraphQLField<unknown, unknown>;
  parentType: GraphQLObjectType;
  /** the schema's resolver; undefined: the value is the source's property */
  resolve: GraphQLFieldResolver<unknown, unknown> | undefined;
  /** `__typename`: the parent type's name */
  typename: boolean;
  nonNull: boolean;
  list: boolean;
  itemNonNull: boolean;
  /** set for leaves (and lists of leaves) */
  leaf: GraphQLLeafType | null;
  /** set for objects (and lists of objects) */
  child: ShapePlan | null;
  hasArgs: boolean;
}

interface ShapePlan {
  fields: FieldPlan[];
  /** a new answer object with every key of the selection, in selection order */
  make: () => Record<string, unknown>;
}

export interface QueryPlan {
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
  root: ShapePlan;
  rootType: GraphQLObjectType;
  /** every field plan with a resolver, for the per-execution resolve infos */
  resolved: FieldPlan[];
}

const NOT_PLANNED = Symbol('not planned');

/** The plan of a query document's operation, or null when it is not a query or selects something plans do not cover. */
export function planQuery(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): QueryPlan | null {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation || operation.operation !== 'query' || operation.directives?.length) return null;
  const rootType = schema.getQueryType();
  if (!rootType) return null;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  const resolved: FieldPlan[] = [];

  const shapeOf = (type: GraphQLObjectType, sets: SelectionSetNode[]): ShapePlan => {
    if (type.isTypeOf) throw NOT_PLANNED;
    const nodes: FieldNode[] = [];
    const spread = new Set<string>();
    const gather = (set: SelectionSetNode) => {
      for (const selection of set.selections) {
        if (selection.directives?.length) throw NOT_PLANNED;
        if (selection.kind === Kind.FIELD) nodes.push(selection);
        else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (selection.typeCondition && selection.typeCondition.name.value !== type.name) throw NOT_PLANNED;
          gather(selection.selectionSet);
        } else {
          const fragment = fragments[selection.name.value];
          if (!fragment || fragment.typeCondition.name.value !== type.name || fragment.directives?.length) throw NOT_PLANNED;
          // Spread twice: its fields would be merged, which plans do not do.
          if (spread.has(fragment.name.value)) throw NOT_PLANNED;
          spread.add(fragment.name.value);
          gather(fragment.selectionSet);
        }
      }
    };
    for (const set of sets) gather(set);
    const keys = new Set<string>();
    const fields = nodes.map((node): FieldPlan => {
      const key = node.alias?.value ?? node.name.value;
      // `__proto__` in an object literal sets the prototype, not a key.
      if (keys.has(key) || key === '__proto__') throw NOT_PLANNED;
      keys.add(key);
      const name = node.name.value;
      if (name === '__typename') {
        return { key, name, node, field: null!, parentType: type, resolve: undefined, typename: true, nonNull: true, list: false, itemNonNull: false, leaf: null, child: null, hasArgs: false };
      }
      if (name.startsWith('__')) throw NOT_PLANNED;
      const field = type.getFields()[name];
      if (!field) throw NOT_PLANNED;
      const nonNull = isNonNullType(field.type);
      const nullable = getNullableType(field.type);
      const list = isListType(nullable);
      const item = list ? nullable.ofType : nullable;
      if (list && isListType(getNullableType(item))) throw NOT_PLANNED;
      const named = getNamedType(field.type);
      const leaf = isLeafType(named) ? named : null;
      if (!leaf && !isObjectType(named)) throw NOT_PLANNED;
      if (leaf && node.selectionSet) throw NOT_PLANNED;
      const child = isObjectType(named) ? shapeOf(named, node.selectionSet ? [node.selectionSet] : []) : null;
      const plan: FieldPlan = {
        key, name, node, field, parentType: type, resolve: field.resolve, typename: false, nonNull, list, itemNonNull: list && isNonNullType(item), leaf, child,
        hasArgs: field.args.length > 0,
      };
      if (plan.resolve) resolved.push(plan);
      return plan;
    });
    // Keys are GraphQL names (/[_A-Za-z][_0-9A-Za-z]*/), so they are safe inside the source text.
    const make = new Function(`return function make() { return { ${fields.map((f) => `${f.key}: null`).join(', ')} }; };`)() as () => Record<string, unknown>;
    return { fields, make };
  };

  try {
    return { operation, fragments, root: shapeOf(rootType, [operation.selectionSet]), rootType, resolved };
  } catch (error) {
    if (error === NOT_PLANNED) return null;
    throw error;
  }
}

/** What one execution of a plan shares: its context, variables and the infos its resolvers get. */
interface Run {
  context: unknown;
  args: Map<FieldPlan, Record<string, unknown>>;
  infos: Map<FieldPlan, GraphQLResolveInfo>;
  failed: boolean;
}

const NO_ARGS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

function fail(run: Run): never {
  run.failed = true;
  throw PLAN_FAILED;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';

function serialize(run: Run, leaf: GraphQLLeafType, value: unknown, nonNull: boolean): unknown {
  if (value === null || value === undefined) return nonNull ? fail(run) : null;
  let out: unknown;
  try {
    out = leaf.serialize(value);
  } catch {
    fail(run);
  }
  return out === undefined || out === null ? fail(run) : out;
}

/**
 * Executes `plan`: the `data` of the answer, or throws PLAN_FAILED (the caller runs the document
 * another way). `variables` are the request's raw variables.
 */
export async function executePlan(schema: GraphQLSchema, plan: QueryPlan, context: unknown, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const coerced = getVariableValues(schema, plan.operation.variableDefinitions ?? [], variables);
  if (coerced.errors) throw PLAN_FAILED;
  const run: Run = { context, args: new Map(), infos: new Map(), failed: false };
  for (const field of plan.resolved) {
    let args = NO_ARGS;
    if (field.hasArgs) {
      try {
        args = getArgumentValues(field.field, field.node, coerced.coerced);
      } catch {
        throw PLAN_FAILED;
      }
    }
    run.args.set(field, args);
    run.infos.set(field, {
      fieldName: field.name,
      fieldNodes: [field.node],
      returnType: field.field.type,
      parentType: field.parentType,
      path: { prev: undefined, key: field.key, typename: field.parentType.name },
      schema,
      fragments: plan.fragments,
      rootValue: undefined,
      operation: plan.operation,
      variableValues: coerced.coerced,
    });
  }
  const data = plan.root.make();
  await level(run, plan.root, [undefined], [data]);
  return data;
}

/** Resolves `shape`'s fields for every source at once, then the next level of all of them. */
async function level(run: Run, shape: ShapePlan, sources: unknown[], outputs: Array<Record<string, unknown>>): Promise<void> {
  if (run.failed) throw PLAN_FAILED;
  const n = sources.length;
  const waits: Array<PromiseLike<unknown>> = [];
  const composite: Array<{ field: FieldPlan; values: unknown[] }> = [];
  for (const field of shape.fields) {
    const { key } = field;
    if (field.typename) {
      for (let i = 0; i < n; i++) outputs[i][key] = field.parentType.name;
      continue;
    }
    const { resolve } = field;
    const values: unknown[] = new Array(n);
    if (resolve) {
      const args = run.args.get(field)!;
      const info = run.infos.get(field)!;
      for (let i = 0; i < n; i++) {
        let value: unknown;
        try {
          value = resolve(sources[i], args, run.context, info);
        } catch {
          fail(run);
        }
        if (isThenable(value)) {
          const at = i;
          // A rejection only marks the run: these promises never reject, so none is left unhandled when the level gives up early.
          waits.push(value.then((resolved) => (values[at] = resolved), () => (run.failed = true)));
        } else values[i] = value;
      }
    } else {
      const { name } = field;
      for (let i = 0; i < n; i++) {
        const value = (sources[i] as Record<string, unknown>)[name];
        // A method (graphql-js would call it) or a promise (it would wait for it): left to graphql-jit.
        if (typeof value === 'function' || isThenable(value)) fail(run);
        values[i] = value;
      }
    }
    composite.push({ field, values });
  }
  if (waits.length) await Promise.all(waits);
  if (run.failed) throw PLAN_FAILED;
  const below: Array<Promise<void>> = [];
  try {
    complete(run, composite, n, outputs, below);
  } catch (error) {
    // The levels already started must not reject unheard.
    for (const started of below) started.catch(() => undefined);
    throw error;
  }
  if (below.length) await Promise.all(below);
}

/** Puts a level's resolved values into its answer objects, starting the next level of each object field (into `below`). */
function complete(run: Run, composite: Array<{ field: FieldPlan; values: unknown[] }>, n: number, outputs: Array<Record<string, unknown>>, below: Array<Promise<void>>): void {
  for (const { field, values } of composite) {
    const { key, leaf, nonNull, list, itemNonNull, child } = field;
    if (leaf) {
      for (let i = 0; i < n; i++) {
        const value = values[i];
        if (!list) outputs[i][key] = isThenable(value) ? fail(run) : serialize(run, leaf, value, nonNull);
        else if (value === null || value === undefined) outputs[i][key] = nonNull ? fail(run) : null;
        else if (!Array.isArray(value)) fail(run);
        else {
          const items = new Array(value.length);
          for (let j = 0; j < value.length; j++) items[j] = isThenable(value[j]) ? fail(run) : serialize(run, leaf, value[j], itemNonNull);
          outputs[i][key] = items;
        }
      }
      continue;
    }
    const childSources: unknown[] = [];
    const childOutputs: Array<Record<string, unknown>> = [];
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (value === null || value === undefined) {
        outputs[i][key] = nonNull ? fail(run) : null;
      } else if (!list) {
        if (value instanceof Error || isThenable(value)) fail(run);
        const out = child!.make();
        childSources.push(value);
        childOutputs.push(out);
        outputs[i][key] = out;
      } else {
        if (!Array.isArray(value)) fail(run);
        const items: unknown[] = new Array(value.length);
        for (let j = 0; j < value.length; j++) {
          const item = value[j];
          if (item === null || item === undefined) {
            if (itemNonNull) fail(run);
            items[j] = null;
          } else {
            // An item graphql-js would wait for (a list of promises): left to graphql-jit.
            if (item instanceof Error || isThenable(item)) fail(run);
            const out = child!.make();
            childSources.push(item);
            childOutputs.push(out);
            items[j] = out;
          }
        }
        outputs[i][key] = items;
      }
    }
    if (childSources.length) below.push(level(run, child!, childSources, childOutputs));
  }
}
