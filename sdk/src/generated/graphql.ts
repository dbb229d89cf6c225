/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type CreateWorkflowInput = {
  description?: string | null | undefined;
  /** as the Idempotency-Key header: a retry with the same key answers the first result */
  idempotencyKey?: string | null | undefined;
  name: string;
  tasks?: Array<TaskInput> | null | undefined;
};

/** How failed attempts of a task are retried (while attempts remain) */
export type RetryPolicyInput = {
  /** each further delay is this many times the last, 1 to 100; defaults to 2 */
  backoffCoefficient?: number | null | undefined;
  /** delay before the second attempt, 0.1 to 86400 s; defaults to 1 */
  initialIntervalSeconds?: number | null | undefined;
  /** the longest delay, initialIntervalSeconds to 604800 s; defaults to 300 */
  maximumIntervalSeconds?: number | null | undefined;
  /** failTask errorType values that fail the task at once (up to 50); LOST and TIMED_OUT count too */
  nonRetryableErrors?: Array<string> | null | undefined;
};

/** ADMIN sees and changes all; MEMBER sees and changes only its own workflows; VIEWER reads all and changes nothing */
export type Role =
  | 'ADMIN'
  | 'MEMBER'
  | 'VIEWER';

/** one completion of completeAndClaimTasks: as completeTask(id, attempt, output) */
export type TaskCompletionInput = {
  /** the attempt being completed */
  attempt: number;
  id: string | number;
  /** kept as Task.output (at most 256 KiB as JSON) */
  output?: unknown;
};

/** one failure of completeAndClaimTasks: as failTask(id, error, errorType, attempt) */
export type TaskFailureInput = {
  /** the attempt that failed */
  attempt: number;
  /** kept as Task.error (the first 10,000 characters) */
  error: string;
  /** kept as Task.errorType; a retry policy's nonRetryableErrors name these */
  errorType?: string | null | undefined;
  id: string | number;
};

/** A task of a new workflow */
export type TaskInput = {
  /** names of sibling tasks in the same input */
  dependsOn?: Array<string> | null | undefined;
  /** a RUNNING attempt not heart-beaten within this is lost, 1 to 86400; defaults to 300 */
  heartbeatTimeoutSeconds?: number | null | undefined;
  /** defaults to 1 */
  maxAttempts?: number | null | undefined;
  name: string;
  /** -1000 to 1000, defaults to 0; claimTask hands out higher first, then the oldest READY */
  priority?: number | null | undefined;
  /** defaults to "default" */
  queue?: string | null | undefined;
  /** unset: a failed attempt is READY again at once */
  retry?: RetryPolicyInput | null | undefined;
  /** start-to-close limit of one attempt, 1 to 604800 (7 days); defaults to none */
  timeoutSeconds?: number | null | undefined;
};

export type TaskStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'PENDING'
  | 'READY'
  | 'RUNNING'
  | 'SUCCEEDED';

export type WorkflowStatus =
  | 'CANCELLED'
  | 'DRAFT'
  | 'FAILED'
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCEEDED';

export type CliViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type CliViewerQuery = { viewer: { id: string, email: string, name: string, role: Role } | null };

export type CliLoginMutationVariables = Exact<{
  email: string;
  password: string;
}>;


export type CliLoginMutation = { login: { token: string, user: { email: string } } };

export type CliCreateApiTokenMutationVariables = Exact<{
  name: string;
}>;


export type CliCreateApiTokenMutation = { createApiToken: string };

export type CliWorkflowsQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  status?: Array<WorkflowStatus> | WorkflowStatus | null | undefined;
  search?: string | null | undefined;
}>;


export type CliWorkflowsQuery = { workflows: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, name: string, status: WorkflowStatus, createdAt: string, taskCounts: { succeeded: number, failed: number, running: number, total: number } } }> } };

export type CliCreateWorkflowMutationVariables = Exact<{
  input: CreateWorkflowInput;
}>;


export type CliCreateWorkflowMutation = { createWorkflow: { id: string, name: string, status: WorkflowStatus } };

export type CliStartWorkflowMutationVariables = Exact<{
  id: string | number;
}>;


export type CliStartWorkflowMutation = { startWorkflow: { id: string, name: string, status: WorkflowStatus, tasks: Array<{ name: string, status: TaskStatus }> } };

export type CliWorkflowEventsSubscriptionVariables = Exact<{
  after?: string | null | undefined;
  workflowId?: string | number | null | undefined;
}>;


export type CliWorkflowEventsSubscription = { workflowEvents: { cursor: string, kind: string, workflowId: string, workflow: { id: string, name: string, status: WorkflowStatus } | null, task: { id: string, name: string, status: TaskStatus, attempts: number, error: string | null } | null } };

export type ClaimedTaskFragment = { id: string, name: string, queue: string, attempts: number, maxAttempts: number, priority: number, timeoutSeconds: number | null, heartbeatTimeoutSeconds: number, leaseExpiresAt: string | null, traceparent: string | null, workflow: { id: string, name: string }, dependsOn: Array<{ name: string, output: unknown }> };

export type WorkerClaimTaskMutationVariables = Exact<{
  queues?: Array<string> | string | null | undefined;
  workerId?: string | null | undefined;
}>;


export type WorkerClaimTaskMutation = { claimTask: { id: string, name: string, queue: string, attempts: number, maxAttempts: number, priority: number, timeoutSeconds: number | null, heartbeatTimeoutSeconds: number, leaseExpiresAt: string | null, traceparent: string | null, workflow: { id: string, name: string }, dependsOn: Array<{ name: string, output: unknown }> } | null };

export type WorkerHeartbeatTaskMutationVariables = Exact<{
  id: string | number;
  attempt: number;
  details?: unknown;
}>;


export type WorkerHeartbeatTaskMutation = { heartbeatTask: { id: string, status: TaskStatus, leaseExpiresAt: string | null } };

export type WorkerClaimTasksMutationVariables = Exact<{
  limit: number;
  queues?: Array<string> | string | null | undefined;
  workerId?: string | null | undefined;
}>;


export type WorkerClaimTasksMutation = { claimTasks: Array<{ id: string, name: string, queue: string, attempts: number, maxAttempts: number, priority: number, timeoutSeconds: number | null, heartbeatTimeoutSeconds: number, leaseExpiresAt: string | null, traceparent: string | null, workflow: { id: string, name: string }, dependsOn: Array<{ name: string, output: unknown }> }> };

export type WorkerCompleteAndClaimTasksMutationVariables = Exact<{
  completions: Array<TaskCompletionInput> | TaskCompletionInput;
  failures?: Array<TaskFailureInput> | TaskFailureInput | null | undefined;
  claim: number;
  queues?: Array<string> | string | null | undefined;
  workerId?: string | null | undefined;
}>;


export type WorkerCompleteAndClaimTasksMutation = { completeAndClaimTasks: { completed: Array<{ id: string }>, failed: Array<{ id: string, status: TaskStatus, nextAttemptAt: string | null }>, refused: Array<{ taskId: string, attempt: number, code: string, message: string }>, next: Array<{ id: string, name: string, queue: string, attempts: number, maxAttempts: number, priority: number, timeoutSeconds: number | null, heartbeatTimeoutSeconds: number, leaseExpiresAt: string | null, traceparent: string | null, workflow: { id: string, name: string }, dependsOn: Array<{ name: string, output: unknown }> }> } };

export type WorkerTaskQueueChangedSubscriptionVariables = Exact<{
  queues?: Array<string> | string | null | undefined;
}>;


export type WorkerTaskQueueChangedSubscription = { taskQueueChanged: { name: string, ready: number } };

export type WorkerTaskCancelledSubscriptionVariables = Exact<{
  workerId: string;
}>;


export type WorkerTaskCancelledSubscription = { taskCancelled: { taskId: string, attempt: number, reason: string } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ClaimedTaskFragmentDoc = new TypedDocumentString(`
    fragment ClaimedTask on Task {
  id
  name
  queue
  attempts
  maxAttempts
  priority
  timeoutSeconds
  heartbeatTimeoutSeconds
  leaseExpiresAt
  workflow {
    id
    name
  }
  dependsOn {
    name
    output
  }
  traceparent
}
    `, {"fragmentName":"ClaimedTask"}) as unknown as TypedDocumentString<ClaimedTaskFragment, unknown>;
export const CliViewerDocument = new TypedDocumentString(`
    query CliViewer {
  viewer {
    id
    email
    name
    role
  }
}
    `, {"hash":"sha256:95a3fa94b82704cc99998e369635f7b516cc8fbf3492cf7182bd7e5b3b245aae"}) as unknown as TypedDocumentString<CliViewerQuery, CliViewerQueryVariables>;
export const CliLoginDocument = new TypedDocumentString(`
    mutation CliLogin($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    token
    user {
      email
    }
  }
}
    `, {"hash":"sha256:9cad74e34efc402f7ccca15a7b10a7fc40be759e71e9498c6e3b8d8e3b28d27b"}) as unknown as TypedDocumentString<CliLoginMutation, CliLoginMutationVariables>;
export const CliCreateApiTokenDocument = new TypedDocumentString(`
    mutation CliCreateApiToken($name: String!) {
  createApiToken(name: $name)
}
    `, {"hash":"sha256:518fdae490c0caf390af162fa070abc76c273de02f09a65e117492320ad4eabe"}) as unknown as TypedDocumentString<CliCreateApiTokenMutation, CliCreateApiTokenMutationVariables>;
export const CliWorkflowsDocument = new TypedDocumentString(`
    query CliWorkflows($first: Int!, $after: String, $status: [WorkflowStatus!], $search: String) {
  workflows(first: $first, after: $after, status: $status, search: $search) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        id
        name
        status
        createdAt
        taskCounts {
          succeeded
          failed
          running
          total
        }
      }
    }
  }
}
    `, {"hash":"sha256:284f964f022cacf7a63391986c7b8b7b2805196ebaa059c19e8faf6e34f3ba69"}) as unknown as TypedDocumentString<CliWorkflowsQuery, CliWorkflowsQueryVariables>;
export const CliCreateWorkflowDocument = new TypedDocumentString(`
    mutation CliCreateWorkflow($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) {
    id
    name
    status
  }
}
    `, {"hash":"sha256:1e58954cbe1f7d3898e71117d3bc27b031d24cd4858f8d2a2947c2658507fca3"}) as unknown as TypedDocumentString<CliCreateWorkflowMutation, CliCreateWorkflowMutationVariables>;
export const CliStartWorkflowDocument = new TypedDocumentString(`
    mutation CliStartWorkflow($id: ID!) {
  startWorkflow(id: $id) {
    id
    name
    status
    tasks {
      name
      status
    }
  }
}
    `, {"hash":"sha256:064ede242508736755d88ab521bafedb2d30e558a284e58f3435fe5d29500b4d"}) as unknown as TypedDocumentString<CliStartWorkflowMutation, CliStartWorkflowMutationVariables>;
export const CliWorkflowEventsDocument = new TypedDocumentString(`
    subscription CliWorkflowEvents($after: String, $workflowId: ID) {
  workflowEvents(after: $after, workflowId: $workflowId) {
    cursor
    kind
    workflowId
    workflow {
      id
      name
      status
    }
    task {
      id
      name
      status
      attempts
      error
    }
  }
}
    `, {"hash":"sha256:5120871efee74277bc13a4367b7e2451c50923fd158eff7abc040e88a579b3b9"}) as unknown as TypedDocumentString<CliWorkflowEventsSubscription, CliWorkflowEventsSubscriptionVariables>;
export const WorkerClaimTaskDocument = new TypedDocumentString(`
    mutation WorkerClaimTask($queues: [String!], $workerId: String) {
  claimTask(queues: $queues, workerId: $workerId) {
    ...ClaimedTask
  }
}
    fragment ClaimedTask on Task {
  id
  name
  queue
  attempts
  maxAttempts
  priority
  timeoutSeconds
  heartbeatTimeoutSeconds
  leaseExpiresAt
  workflow {
    id
    name
  }
  dependsOn {
    name
    output
  }
  traceparent
}`, {"hash":"sha256:a8d148538f8093f6262baaa861bbc367bf977b7e9bf746e127a8fe3d77ebfd55"}) as unknown as TypedDocumentString<WorkerClaimTaskMutation, WorkerClaimTaskMutationVariables>;
export const WorkerHeartbeatTaskDocument = new TypedDocumentString(`
    mutation WorkerHeartbeatTask($id: ID!, $attempt: Int!, $details: JSON) {
  heartbeatTask(id: $id, attempt: $attempt, details: $details) {
    id
    status
    leaseExpiresAt
  }
}
    `, {"hash":"sha256:14231fc380abbce61a0834cee4ca46e39de9e828c5d3d28535029fecf47f9858"}) as unknown as TypedDocumentString<WorkerHeartbeatTaskMutation, WorkerHeartbeatTaskMutationVariables>;
export const WorkerClaimTasksDocument = new TypedDocumentString(`
    mutation WorkerClaimTasks($limit: Int!, $queues: [String!], $workerId: String) {
  claimTasks(limit: $limit, queues: $queues, workerId: $workerId) {
    ...ClaimedTask
  }
}
    fragment ClaimedTask on Task {
  id
  name
  queue
  attempts
  maxAttempts
  priority
  timeoutSeconds
  heartbeatTimeoutSeconds
  leaseExpiresAt
  workflow {
    id
    name
  }
  dependsOn {
    name
    output
  }
  traceparent
}`, {"hash":"sha256:44ba383018bdf5061aca3e9fb059513f577c2b983e76e48ea2578fb14e4f32a3"}) as unknown as TypedDocumentString<WorkerClaimTasksMutation, WorkerClaimTasksMutationVariables>;
export const WorkerCompleteAndClaimTasksDocument = new TypedDocumentString(`
    mutation WorkerCompleteAndClaimTasks($completions: [TaskCompletionInput!]!, $failures: [TaskFailureInput!], $claim: Int!, $queues: [String!], $workerId: String) {
  completeAndClaimTasks(
    completions: $completions
    failures: $failures
    claim: $claim
    queues: $queues
    workerId: $workerId
  ) {
    completed {
      id
    }
    failed {
      id
      status
      nextAttemptAt
    }
    refused {
      taskId
      attempt
      code
      message
    }
    next {
      ...ClaimedTask
    }
  }
}
    fragment ClaimedTask on Task {
  id
  name
  queue
  attempts
  maxAttempts
  priority
  timeoutSeconds
  heartbeatTimeoutSeconds
  leaseExpiresAt
  workflow {
    id
    name
  }
  dependsOn {
    name
    output
  }
  traceparent
}`, {"hash":"sha256:80933ca877e9373f0f07ad8cde6bf500ce64b07e87bd6360f43dbd78a4210f4e"}) as unknown as TypedDocumentString<WorkerCompleteAndClaimTasksMutation, WorkerCompleteAndClaimTasksMutationVariables>;
export const WorkerTaskQueueChangedDocument = new TypedDocumentString(`
    subscription WorkerTaskQueueChanged($queues: [String!]) {
  taskQueueChanged(queues: $queues) {
    name
    ready
  }
}
    `, {"hash":"sha256:949de244bdd14619101084663c54e42177ccd9b7942b3090febe3dfb68f32bc3"}) as unknown as TypedDocumentString<WorkerTaskQueueChangedSubscription, WorkerTaskQueueChangedSubscriptionVariables>;
export const WorkerTaskCancelledDocument = new TypedDocumentString(`
    subscription WorkerTaskCancelled($workerId: String!) {
  taskCancelled(workerId: $workerId) {
    taskId
    attempt
    reason
  }
}
    `, {"hash":"sha256:377c2aa690ce5741cf9ba36c8717dc634c2f27f69a23944a4a8041c05a5d019b"}) as unknown as TypedDocumentString<WorkerTaskCancelledSubscription, WorkerTaskCancelledSubscriptionVariables>;