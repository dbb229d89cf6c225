/** Alert and alert-rule actions: the mutation, then a toast saying what happened or why not. */
import { client, errorMessage } from '$lib/graphql/client';
import {
  AcknowledgeAlertDocument,
  CreateAlertRuleDocument,
  ResolveAlertDocument,
  UpdateAlertRuleDocument,
  type AlertRuleInput,
} from '$lib/graphql/generated/graphql';
import { toast } from '$lib/toasts.svelte';

async function report(result: Promise<{ error?: Parameters<typeof errorMessage>[0] }>, done: string): Promise<boolean> {
  const { error } = await result;
  if (error) {
    toast('error', errorMessage(error));
    return false;
  }
  toast('ok', done);
  return true;
}

export const acknowledgeAlert = (id: string, name: string) =>
  report(client.mutation(AcknowledgeAlertDocument, { id }).toPromise(), `Acknowledged “${name}”.`);
export const resolveAlert = (id: string, name: string) =>
  report(client.mutation(ResolveAlertDocument, { id }).toPromise(), `Resolved “${name}”.`);
export const createAlertRule = (input: AlertRuleInput) =>
  report(client.mutation(CreateAlertRuleDocument, { input }).toPromise(), `Rule “${input.name}” created.`);
export const updateAlertRule = (id: string, input: AlertRuleInput, done = `Rule “${input.name}” saved.`) =>
  report(client.mutation(UpdateAlertRuleDocument, { id, input }).toPromise(), done);
