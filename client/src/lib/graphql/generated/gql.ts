/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query Health {\n  health {\n    status\n    instance\n    checkedAt\n    components {\n      name\n      status\n      latencyMs\n      detail\n    }\n  }\n}": typeof types.HealthDocument,
    "query Viewer {\n  viewer {\n    id\n    email\n    name\n    role\n  }\n}": typeof types.ViewerDocument,
    "fragment WorkflowRow on Workflow {\n  id\n  name\n  description\n  status\n  createdAt\n  updatedAt\n  startedAt\n  finishedAt\n  owner {\n    id\n    name\n  }\n  taskCounts {\n    pending\n    ready\n    running\n    succeeded\n    failed\n    cancelled\n    total\n  }\n}\n\nfragment TaskRow on Task {\n  id\n  name\n  status\n  queue\n  attempts\n  maxAttempts\n  error\n  startedAt\n  finishedAt\n  durationMs\n  dependsOn {\n    id\n    name\n  }\n}\n\nquery WorkflowList($first: Int!, $after: String, $status: [WorkflowStatus!], $search: String) {\n  workflows(first: $first, after: $after, status: $status, search: $search) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      cursor\n      node {\n        ...WorkflowRow\n      }\n    }\n  }\n}\n\nquery WorkflowDetail($id: ID!) {\n  workflow(id: $id) {\n    ...WorkflowRow\n    tasks {\n      ...TaskRow\n    }\n  }\n}\n\nquery WorkflowStatusCounts {\n  draft: workflows(first: 1, status: [DRAFT]) {\n    totalCount\n  }\n  pending: workflows(first: 1, status: [PENDING]) {\n    totalCount\n  }\n  running: workflows(first: 1, status: [RUNNING]) {\n    totalCount\n  }\n  succeeded: workflows(first: 1, status: [SUCCEEDED]) {\n    totalCount\n  }\n  failed: workflows(first: 1, status: [FAILED]) {\n    totalCount\n  }\n  cancelled: workflows(first: 1, status: [CANCELLED]) {\n    totalCount\n  }\n}\n\nmutation StartWorkflow($id: ID!) {\n  startWorkflow(id: $id) {\n    ...WorkflowRow\n  }\n}\n\nmutation CancelWorkflow($id: ID!) {\n  cancelWorkflow(id: $id) {\n    ...WorkflowRow\n  }\n}\n\nmutation DeleteWorkflow($id: ID!) {\n  deleteWorkflow(id: $id)\n}\n\nmutation RetryTask($id: ID!) {\n  retryTask(id: $id) {\n    ...TaskRow\n  }\n}": typeof types.WorkflowRowFragmentDoc,
};
const documents: Documents = {
    "query Health {\n  health {\n    status\n    instance\n    checkedAt\n    components {\n      name\n      status\n      latencyMs\n      detail\n    }\n  }\n}": types.HealthDocument,
    "query Viewer {\n  viewer {\n    id\n    email\n    name\n    role\n  }\n}": types.ViewerDocument,
    "fragment WorkflowRow on Workflow {\n  id\n  name\n  description\n  status\n  createdAt\n  updatedAt\n  startedAt\n  finishedAt\n  owner {\n    id\n    name\n  }\n  taskCounts {\n    pending\n    ready\n    running\n    succeeded\n    failed\n    cancelled\n    total\n  }\n}\n\nfragment TaskRow on Task {\n  id\n  name\n  status\n  queue\n  attempts\n  maxAttempts\n  error\n  startedAt\n  finishedAt\n  durationMs\n  dependsOn {\n    id\n    name\n  }\n}\n\nquery WorkflowList($first: Int!, $after: String, $status: [WorkflowStatus!], $search: String) {\n  workflows(first: $first, after: $after, status: $status, search: $search) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      cursor\n      node {\n        ...WorkflowRow\n      }\n    }\n  }\n}\n\nquery WorkflowDetail($id: ID!) {\n  workflow(id: $id) {\n    ...WorkflowRow\n    tasks {\n      ...TaskRow\n    }\n  }\n}\n\nquery WorkflowStatusCounts {\n  draft: workflows(first: 1, status: [DRAFT]) {\n    totalCount\n  }\n  pending: workflows(first: 1, status: [PENDING]) {\n    totalCount\n  }\n  running: workflows(first: 1, status: [RUNNING]) {\n    totalCount\n  }\n  succeeded: workflows(first: 1, status: [SUCCEEDED]) {\n    totalCount\n  }\n  failed: workflows(first: 1, status: [FAILED]) {\n    totalCount\n  }\n  cancelled: workflows(first: 1, status: [CANCELLED]) {\n    totalCount\n  }\n}\n\nmutation StartWorkflow($id: ID!) {\n  startWorkflow(id: $id) {\n    ...WorkflowRow\n  }\n}\n\nmutation CancelWorkflow($id: ID!) {\n  cancelWorkflow(id: $id) {\n    ...WorkflowRow\n  }\n}\n\nmutation DeleteWorkflow($id: ID!) {\n  deleteWorkflow(id: $id)\n}\n\nmutation RetryTask($id: ID!) {\n  retryTask(id: $id) {\n    ...TaskRow\n  }\n}": types.WorkflowRowFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Health {\n  health {\n    status\n    instance\n    checkedAt\n    components {\n      name\n      status\n      latencyMs\n      detail\n    }\n  }\n}"): (typeof documents)["query Health {\n  health {\n    status\n    instance\n    checkedAt\n    components {\n      name\n      status\n      latencyMs\n      detail\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Viewer {\n  viewer {\n    id\n    email\n    name\n    role\n  }\n}"): (typeof documents)["query Viewer {\n  viewer {\n    id\n    email\n    name\n    role\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment WorkflowRow on Workflow {\n  id\n  name\n  description\n  status\n  createdAt\n  updatedAt\n  startedAt\n  finishedAt\n  owner {\n    id\n    name\n  }\n  taskCounts {\n    pending\n    ready\n    running\n    succeeded\n    failed\n    cancelled\n    total\n  }\n}\n\nfragment TaskRow on Task {\n  id\n  name\n  status\n  queue\n  attempts\n  maxAttempts\n  error\n  startedAt\n  finishedAt\n  durationMs\n  dependsOn {\n    id\n    name\n  }\n}\n\nquery WorkflowList($first: Int!, $after: String, $status: [WorkflowStatus!], $search: String) {\n  workflows(first: $first, after: $after, status: $status, search: $search) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      cursor\n      node {\n        ...WorkflowRow\n      }\n    }\n  }\n}\n\nquery WorkflowDetail($id: ID!) {\n  workflow(id: $id) {\n    ...WorkflowRow\n    tasks {\n      ...TaskRow\n    }\n  }\n}\n\nquery WorkflowStatusCounts {\n  draft: workflows(first: 1, status: [DRAFT]) {\n    totalCount\n  }\n  pending: workflows(first: 1, status: [PENDING]) {\n    totalCount\n  }\n  running: workflows(first: 1, status: [RUNNING]) {\n    totalCount\n  }\n  succeeded: workflows(first: 1, status: [SUCCEEDED]) {\n    totalCount\n  }\n  failed: workflows(first: 1, status: [FAILED]) {\n    totalCount\n  }\n  cancelled: workflows(first: 1, status: [CANCELLED]) {\n    totalCount\n  }\n}\n\nmutation StartWorkflow($id: ID!) {\n  startWorkflow(id: $id) {\n    ...WorkflowRow\n  }\n}\n\nmutation CancelWorkflow($id: ID!) {\n  cancelWorkflow(id: $id) {\n    ...WorkflowRow\n  }\n}\n\nmutation DeleteWorkflow($id: ID!) {\n  deleteWorkflow(id: $id)\n}\n\nmutation RetryTask($id: ID!) {\n  retryTask(id: $id) {\n    ...TaskRow\n  }\n}"): (typeof documents)["fragment WorkflowRow on Workflow {\n  id\n  name\n  description\n  status\n  createdAt\n  updatedAt\n  startedAt\n  finishedAt\n  owner {\n    id\n    name\n  }\n  taskCounts {\n    pending\n    ready\n    running\n    succeeded\n    failed\n    cancelled\n    total\n  }\n}\n\nfragment TaskRow on Task {\n  id\n  name\n  status\n  queue\n  attempts\n  maxAttempts\n  error\n  startedAt\n  finishedAt\n  durationMs\n  dependsOn {\n    id\n    name\n  }\n}\n\nquery WorkflowList($first: Int!, $after: String, $status: [WorkflowStatus!], $search: String) {\n  workflows(first: $first, after: $after, status: $status, search: $search) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      cursor\n      node {\n        ...WorkflowRow\n      }\n    }\n  }\n}\n\nquery WorkflowDetail($id: ID!) {\n  workflow(id: $id) {\n    ...WorkflowRow\n    tasks {\n      ...TaskRow\n    }\n  }\n}\n\nquery WorkflowStatusCounts {\n  draft: workflows(first: 1, status: [DRAFT]) {\n    totalCount\n  }\n  pending: workflows(first: 1, status: [PENDING]) {\n    totalCount\n  }\n  running: workflows(first: 1, status: [RUNNING]) {\n    totalCount\n  }\n  succeeded: workflows(first: 1, status: [SUCCEEDED]) {\n    totalCount\n  }\n  failed: workflows(first: 1, status: [FAILED]) {\n    totalCount\n  }\n  cancelled: workflows(first: 1, status: [CANCELLED]) {\n    totalCount\n  }\n}\n\nmutation StartWorkflow($id: ID!) {\n  startWorkflow(id: $id) {\n    ...WorkflowRow\n  }\n}\n\nmutation CancelWorkflow($id: ID!) {\n  cancelWorkflow(id: $id) {\n    ...WorkflowRow\n  }\n}\n\nmutation DeleteWorkflow($id: ID!) {\n  deleteWorkflow(id: $id)\n}\n\nmutation RetryTask($id: ID!) {\n  retryTask(id: $id) {\n    ...TaskRow\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;