/** Workflow and task actions: the mutation, then a toast saying what happened or why not. */
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { client } from '$lib/graphql/client';
import {
  CancelWorkflowDocument,
  DeleteWorkflowDocument,
  RetryTaskDocument,
  StartWorkflowDocument,
} from '$lib/graphql/generated/graphql';
import { reported } from '$lib/mutations';

const run = <D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V, done: string) =>
  reported(client.mutation(document, variables).toPromise(), done);

export const startWorkflow = (id: string, name: string) => run(StartWorkflowDocument, { id }, `Started “${name}”.`);
export const cancelWorkflow = (id: string, name: string) => run(CancelWorkflowDocument, { id }, `Cancelled “${name}”.`);
export const deleteWorkflow = (id: string, name: string) => run(DeleteWorkflowDocument, { id }, `Deleted “${name}”.`);
export const retryTask = (id: string, name: string) => run(RetryTaskDocument, { id }, `Task “${name}” will run again.`);

/** A delayed start: the workflow stays DRAFT, shown as scheduled, until `at`. */
export const startWorkflowAt = (id: string, name: string, at: Date) =>
  run(StartWorkflowDocument, { id, at: at.toISOString() }, `“${name}” will start at ${at.toLocaleString()}.`);
