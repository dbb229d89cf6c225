/** @workflow-factory/sdk: a worker for Workflow Factory tasks, and the typed requests it is made of. */
export { createWorker, TaskAbortedError } from './worker.js';
export type { Handler, Task, TaskContext, Worker, WorkerEvents, WorkerOptions } from './worker.js';
export { request, subscribe, webSocketClient, webSocketUrl, WorkflowFactoryError } from './transport.js';
export type { Connection, Operation } from './transport.js';
export * as documents from './generated/graphql.js';
export { shellHandler } from './shell.js';
export type { ShellOptions } from './shell.js';
