/**
 * Limits on what one GraphQL operation may ask for: depth, aliases, directives, an estimated
 * cost, and introspection. Checked after parsing and validation, before anything executes,
 * over HTTP (the Apollo plugin below) and over WebSocket (`checkQueryLimits` on subscribe).
 * The token limit is enforced earlier, by the parser (`parseOptions.maxTokens`).
 *
 * The walk follows fragment spreads, so counts are those of the operation as executed, and
 * memoizes each fragment, so fragments spread many times or in cycles cost linear time.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isInterfaceType,
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
import type { RequestLimits } from '../config.js';
import type { Viewer } from './auth.js';
import { DEFAULT_PAGE_SIZE } from './pagination.js';

export type QueryLimits = Pick<RequestLimits, 'queryDepth' | 'queryAliases' | 'queryDirectives' | 'queryCost' | 'introspection'>;

/** Assumed length of a list that has no `first` argument (a workflow's tasks, say). */
export const ASSUMED_LIST_SIZE = 10;

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

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Variables,
  ) {
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
    const children = node.selectionSet
      ? this.selections(node.selectionSet, definition ? getNamedType(definition.type) : undefined, paginated)
      : EMPTY;
    // `ofType` chains only unwrap list and non-null wrappers, so they stay short and cheap.
    const ownDepth = name === 'ofType' && parent?.name === '__Type' ? 0 : 1;
    return {
      depth: ownDepth + children.depth,
      aliases: children.aliases + (node.alias ? 1 : 0),
      directives: children.directives,
      cost: 1 + this.listSize(definition, first?.value, paginated, paginatedParent) * children.cost,
      introspection: children.introspection || name === '__schema' || name === '__type',
    };
  }

  /** How many times a field's selections may be resolved: its `first`, else a guess for lists. */
  private listSize(definition: GraphQLField<unknown, unknown> | undefined, first: ValueNode | undefined, paginated: boolean, paginatedParent: boolean): number {
    if (paginated) {
      const value = first ? this.value(first) : undefined;
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : DEFAULT_PAGE_SIZE;
    }
    if (!definition || !isListType(getNullableType(definition.type))) return 1;
    // The edges of a connection are already counted by the connection's `first`.
    return paginatedParent ? 1 : ASSUMED_LIST_SIZE;
  }

  private value(node: ValueNode): unknown {
    if (node.kind === Kind.INT) return Number(node.value);
    if (node.kind === Kind.VARIABLE) return this.variables?.[node.name.value];
    return undefined;
  }
}

function fieldDefinition(schema: GraphQLSchema, parent: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
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
