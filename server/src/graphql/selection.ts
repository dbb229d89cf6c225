/**
 * What a query document asks of each object type, worked out once per document, so loaders
 * read only the columns its fields need (a dashboard list reads 1,000 task rows: decoding and
 * keeping columns nobody asked for, timestamps above all, was most of its cost).
 *
 * Only queries get a selection: a mutation's service code may read any column of what it
 * loads, and subscriptions execute one document for many events; both load whole rows.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** Field names selected on each object type (a field asked of an interface counts for every type implementing it). */
export type SelectedFields = ReadonlyMap<string, ReadonlySet<string>>;

function collect(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): SelectedFields {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const selected = new Map<string, Set<string>>();
  const visitedFragments = new Set<string>();
  const objectTypes = (type: GraphQLNamedType): readonly GraphQLNamedType[] => (isAbstractType(type) ? schema.getPossibleTypes(type) : [type]);
  const walk = (set: SelectionSetNode, parent: GraphQLNamedType | null | undefined) => {
    if (!parent) return;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        for (const type of objectTypes(parent)) {
          let fields = selected.get(type.name);
          if (!fields) selected.set(type.name, (fields = new Set()));
          fields.add(name);
        }
        if (!selection.selectionSet || !(isObjectType(parent) || isInterfaceType(parent))) continue;
        const field = parent.getFields()[name];
        if (field) walk(selection.selectionSet, getNamedType(field.type));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent);
      } else if (!visitedFragments.has(selection.name.value)) {
        // A fragment's type condition fixes its parent: one walk each, however often it is spread.
        visitedFragments.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value));
      }
    }
  };
  walk(operation.selectionSet, schema.getRootType(operation.operation));
  return selected;
}

// Apollo keeps parsed documents in its document store, so the same query text is the same object.
const byDocument = new WeakMap<DocumentNode, Map<OperationDefinitionNode, SelectedFields>>();

export function selectedFields(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): SelectedFields {
  let perOperation = byDocument.get(document);
  if (!perOperation) byDocument.set(document, (perOperation = new Map()));
  let selected = perOperation.get(operation);
  if (!selected) perOperation.set(operation, (selected = collect(schema, document, operation)));
  return selected;
}

/** Sets `operation.selected` on the context of every query once Apollo has resolved its operation. */
export function selectionPlugin<C extends BaseContext & { operation: { selected?: SelectedFields } }>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, contextValue }) {
          if (operation?.operation === 'query') contextValue.operation.selected = selectedFields(schema, document, operation);
        },
      };
    },
  };
}

/** How the fields of one GraphQL type map onto its table's columns. */
export interface ColumnPlan {
  /** every column of the table; a field named like one (camelCase of snake_case) reads it */
  columns: readonly string[];
  /** columns read whatever is selected (keys, and what resolvers filter or order by) */
  always: readonly string[];
  /** fields whose resolvers read other columns (or SQL expressions) than their own name says */
  derived: Readonly<Record<string, readonly string[]>>;
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The columns (and expressions) `fields` need, or null for "every column": when nothing is
 * known (not a query) or a field is neither a column nor listed as derived.
 */
export function columnsFor(plan: ColumnPlan, fields: ReadonlySet<string> | undefined): string[] | null {
  if (!fields) return null;
  const needed = new Set(plan.always);
  for (const field of fields) {
    const derived = plan.derived[field];
    if (derived) for (const column of derived) needed.add(column);
    else if (plan.columns.includes(snakeCase(field))) needed.add(snakeCase(field));
    else if (field !== '__typename') return null;
  }
  return [...needed];
}

/** Whether an operation may read `field` of `type`: false only when its selection is known and lacks it. */
export function mayRead(selected: SelectedFields | undefined, type: string, field: string): boolean {
  return !selected || Boolean(selected.get(type)?.has(field));
}
