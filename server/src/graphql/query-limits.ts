/**
 * Limits on what one GraphQL operation may ask for: depth, aliases, directives, an estimated
 * cost, and introspection. Checked after parsing and validation, before anything executes,
 * over HTTP (the Apollo plugin below) and over WebSocket (`checkQueryLimits` on subscribe).
 * The token limit is enforced earlier, by the parser (`parseOptions.maxTokens`).
 *
 * The walk follows fragment spreads, so counts are those of the operation as executed, and
 * memoizes each fragment, so fragments spread many times or in cycles cost linear time.
 *
 * The cost is an upper bound on the fields resolved: a list field counts as many items as it
 * can hold — its `first`, or the `@MaxItems` its definition declares (every list without
 * `first` must declare one; `listBounds` refuses a schema where one does not). So a
 * back-reference (a task's workflow's tasks) multiplies the cost as it multiplies the answer.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  DirectiveLocation,
  getNamedType,
  getNullableType,
  GraphQLError,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { Extensions } from 'type-graphql';
import type { RequestLimits } from '../core/limits.js';
import type { Viewer } from '../core/viewer.js';
import { DEFAULT_PAGE_SIZE } from '../db/pagination.js';

export type QueryLimits = Pick<RequestLimits, 'queryDepth' | 'queryAliases' | 'queryDirectives' | 'queryCost' | 'introspection'>;

const MAX_ITEMS = 'maxItems';

/** Declares the most items a list field can hold (a workflow's tasks: its task limit). */
export const MaxItems = (count: number) => Extensions({ [MAX_ITEMS]: count });

type Field = GraphQLField<unknown, unknown>;
const boundsBySchema = new WeakMap<GraphQLSchema, Map<Field, number>>();

/**
 * The most items each list field of `schema` can hold: declared with `@MaxItems`, or for
 * introspection the schema's own sizes (its types, the most fields of one type…). Throws,
 * naming them, when list fields without `first` declare no bound.
 */
export function listBounds(schema: GraphQLSchema): Map<Field, number> {
  const known = boundsBySchema.get(schema);
  if (known) return known;
  const types = Object.values(schema.getTypeMap());
  const most = (counts: number[]) => Math.max(1, ...counts);
  const fieldsOf = (type: GraphQLNamedType) => (isObjectType(type) || isInterfaceType(type) ? Object.values(type.getFields()) : []);
  const allFields = types.flatMap(fieldsOf);
  const introspection: Record<string, number> = {
    '__Schema.types': types.length,
    '__Schema.directives': schema.getDirectives().length,
    '__Type.fields': most(types.map((t) => fieldsOf(t).length)),
    '__Type.interfaces': most(types.map((t) => (isObjectType(t) || isInterfaceType(t) ? t.getInterfaces().length : 0))),
    '__Type.possibleTypes': most(types.map((t) => (isInterfaceType(t) ? schema.getPossibleTypes(t).length : 0))),
    '__Type.enumValues': most(types.map((t) => (isEnumType(t) ? t.getValues().length : 0))),
    '__Type.inputFields': most(types.map((t) => (isInputObjectType(t) ? Object.keys(t.getFields()).length : 0))),
    '__Field.args': most(allFields.map((f) => f.args.length)),
    '__Directive.args': most(schema.getDirectives().map((d) => d.args.length)),
    '__Directive.locations': Object.keys(DirectiveLocation).length,
  };
  const bounds = new Map<Field, number>();
  const missing: string[] = [];
  for (const type of types) {
    for (const field of fieldsOf(type)) {
      if (!isListType(getNullableType(field.type))) continue;
      const name = `${type.name}.${field.name}`;
      const declared = isIntrospectionType(type) ? introspection[name] : field.extensions?.[MAX_ITEMS];
      if (typeof declared === 'number' && declared >= 0) bounds.set(field, declared);
      else if (!field.args.some((arg) => arg.name === 'first')) missing.push(name);
    }
  }
  if (missing.length) throw new Error(`List fields without a bound (declare @MaxItems): ${missing.join(', ')}`);
  boundsBySchema.set(schema, bounds);
  return bounds;
}

interface Measure {
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
  introspection: boolean;
}

const EMPTY: Measure = { depth: 0, aliases: 0, directives: 0, cost: 0, introspection: false };

function combine(a: Measure, b: Measure): Measure {
  return {
    depth: Math.max(a.depth, b.depth),
    aliases: a.aliases + b.aliases,
    directives: a.directives + b.directives,
    cost: a.cost + b.cost,
    introspection: a.introspection || b.introspection,
  };
}

type Variables = Record<string, unknown> | undefined;

class OperationWalker {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly measured = new Map<string, Measure>();
  private readonly inProgress = new Set<string>();
  private readonly bounds: Map<Field, number>;

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Variables,
  ) {
    this.bounds = listBounds(schema);
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
    }
  }

  operation(operation: OperationDefinitionNode): Measure {
    const root = this.schema.getRootType(operation.operation) ?? undefined;
    const measure = this.selections(operation.selectionSet, root, false);
    return { ...measure, directives: measure.directives + (operation.directives?.length ?? 0) };
  }

  private selections(set: SelectionSetNode, parent: GraphQLNamedType | undefined, paginatedParent: boolean): Measure {
    let total = EMPTY;
    for (const selection of set.selections) {
      const directives = selection.directives?.length ?? 0;
      let measure: Measure;
      if (selection.kind === Kind.FIELD) {
        measure = this.field(selection, parent, paginatedParent);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typed = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : parent;
        measure = this.selections(selection.selectionSet, typed ?? undefined, paginatedParent);
      } else {
        measure = this.fragment(selection.name.value);
      }
      total = combine(total, { ...measure, directives: measure.directives + directives });
    }
    return total;
  }

  private fragment(name: string): Measure {
    const known = this.measured.get(name);
    if (known) return known;
    const definition = this.fragments.get(name);
    // A cycle (which validation rejects anyway) or an unknown fragment adds nothing.
    if (!definition || this.inProgress.has(name)) return EMPTY;
    this.inProgress.add(name);
    const type = this.schema.getType(definition.typeCondition.name.value) ?? undefined;
    const measure = this.selections(definition.selectionSet, type, false);
    this.inProgress.delete(name);
    const withOwn = { ...measure, directives: measure.directives + (definition.directives?.length ?? 0) };
    this.measured.set(name, withOwn);
    return withOwn;
  }

  private field(node: FieldNode, parent: GraphQLNamedType | undefined, paginatedParent: boolean): Measure {
    const name = node.name.value;
    const definition = fieldDefinition(this.schema, parent, name);
    const first = node.arguments?.find((arg) => arg.name.value === 'first');
    const paginated = first !== undefined || Boolean(definition?.args.some((arg) => arg.name === 'first'));
    // A connection's `first` counts its edges; a plain list's `first` (versions(first:)) counts its items, whose own lists count again.
    const connection = paginated && !(definition && isListType(getNullableType(definition.type)));
    const children = node.selectionSet
      ? this.selections(node.selectionSet, definition ? getNamedType(definition.type) : undefined, connection)
      : EMPTY;
    // `ofType` chains only unwrap list and non-null wrappers, so they stay short and cheap.
    const ownDepth = name === 'ofType' && parent?.name === '__Type' ? 0 : 1;
    const size = this.listSize(definition, first?.value, paginated, paginatedParent);
    // A list of scalars (metricNames) costs its items, a list of objects their selections.
    const each = node.selectionSet ? children.cost : definition && isListType(getNullableType(definition.type)) ? 1 : 0;
    return {
      depth: ownDepth + children.depth,
      aliases: children.aliases + (node.alias ? 1 : 0),
      directives: children.directives,
      cost: 1 + size * each,
      introspection: children.introspection || name === '__schema' || name === '__type',
    };
  }

  /** How many times a field's selections may be resolved: its `first`, else its list's bound. */
  private listSize(definition: Field | undefined, first: ValueNode | undefined, paginated: boolean, paginatedParent: boolean): number {
    if (paginated) {
      const value = first ? this.value(first) : undefined;
      // Without `first`, a list holds what it declares (versions: 100), a connection a default page.
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : ((definition && this.bounds.get(definition)) ?? DEFAULT_PAGE_SIZE);
    }
    if (!definition || !isListType(getNullableType(definition.type))) return 1;
    // The edges of a connection are already counted by the connection's `first`.
    return paginatedParent ? 1 : (this.bounds.get(definition) ?? 1);
  }

  private value(node: ValueNode): unknown {
    if (node.kind === Kind.INT) return Number(node.value);
    if (node.kind === Kind.VARIABLE) return this.variables?.[node.name.value];
    return undefined;
  }
}

function fieldDefinition(schema: GraphQLSchema, parent: GraphQLNamedType | undefined, name: string): Field | undefined {
  if (name === '__typename') return TypeNameMetaFieldDef;
  if (parent && parent === schema.getQueryType()) {
    if (name === '__schema') return SchemaMetaFieldDef;
    if (name === '__type') return TypeMetaFieldDef;
  }
  if (isObjectType(parent) || isInterfaceType(parent)) return parent.getFields()[name];
  return undefined;
}

function limitError(what: string, actual: number, max: number, setting: string): GraphQLError {
  return new GraphQLError(`Query ${what} ${actual} exceeds the limit of ${max} (${setting})`, {
    extensions: { code: 'BAD_USER_INPUT', limit: setting, max, actual, http: { status: 400 } },
  });
}

export interface LimitCheck {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables?: Record<string, unknown>;
  viewer: Viewer | null;
}

/** Whether a caller may learn the schema (by introspection, or by suggestions in error messages). */
export function mayIntrospect(viewer: Viewer | null, limits: Pick<QueryLimits, 'introspection'>): boolean {
  return viewer !== null && limits.introspection;
}

/** The first limit the operation breaks, as a client error; null when it is within all of them. */
export function checkQueryLimits(check: LimitCheck, limits: QueryLimits): GraphQLError | null {
  const measure = new OperationWalker(check.schema, check.document, check.variables).operation(check.operation);
  if (measure.introspection) {
    if (!check.viewer) {
      return new GraphQLError('Sign in to introspect the schema', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
    }
    if (!limits.introspection) {
      return new GraphQLError('Introspection is turned off on this server (INTROSPECTION=0)', { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
    }
  }
  if (measure.depth > limits.queryDepth) return limitError('depth', measure.depth, limits.queryDepth, 'QUERY_MAX_DEPTH');
  if (measure.aliases > limits.queryAliases) return limitError('aliases', measure.aliases, limits.queryAliases, 'QUERY_MAX_ALIASES');
  if (measure.directives > limits.queryDirectives) return limitError('directives', measure.directives, limits.queryDirectives, 'QUERY_MAX_DIRECTIVES');
  if (measure.cost > limits.queryCost) return limitError('cost', measure.cost, limits.queryCost, 'QUERY_MAX_COST');
  return null;
}

/** Applies `checkQueryLimits` to every HTTP operation once Apollo has resolved it. */
export function queryLimitsPlugin<C extends BaseContext & { viewer: Viewer | null }>(limits: QueryLimits): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation) return;
          const error = checkQueryLimits({ schema, document, operation, variables: request.variables, viewer: contextValue.viewer }, limits);
          if (error) throw error;
        },
      };
    },
  };
}
