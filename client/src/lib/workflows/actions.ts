/** Workflow and task actions: the mutation, then a toast saying what happened or why not. */
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { client, errorMessage } from '$lib/graphql/client';
import {
  CancelWorkflowDocument,
  DeleteWorkflowDocument,
  RetryTaskDocument,
  StartWorkflowDocument,
} from '$lib/graphql/generated/graphql';
import { toast } from '$lib/toasts.svelte';

async function run<D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V, done: string): Promise<boolean> {
  const result = await client.mutation(document, variables).toPromise();
  if (result.error) {
    toast('error', errorMessage(result.error));
    return false;
  }
  toast('ok', done);
  return true;
}

export const startWorkflow = (id: string, name: string) => run(StartWorkflowDocument, { id }, `Started “${name}”.`);
export const cancelWorkflow = (id: string, name: string) => run(CancelWorkflowDocument, { id }, `Cancelled “${name}”.`);
export const deleteWorkflow = (id: string, name: string) => run(DeleteWorkflowDocument, { id }, `Deleted “${name}”.`);
export const retryTask = (id: string, name: string) => run(RetryTaskDocument, { id }, `Task “${name}” will run again.`);
