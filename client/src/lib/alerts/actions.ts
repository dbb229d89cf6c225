/** Alert and alert-rule actions: the mutation, then a toast saying what happened or why not. */
import { client } from '$lib/graphql/client';
import {
  AcknowledgeAlertDocument,
  CreateAlertRuleDocument,
  ResolveAlertDocument,
  UpdateAlertRuleDocument,
  type AlertRuleInput,
} from '$lib/graphql/generated/graphql';
import { reported as report } from '$lib/mutations';

export const acknowledgeAlert = (id: string, name: string) =>
  report(client.mutation(AcknowledgeAlertDocument, { id }).toPromise(), `Acknowledged “${name}”.`);
export const resolveAlert = (id: string, name: string) =>
  report(client.mutation(ResolveAlertDocument, { id }).toPromise(), `Resolved “${name}”.`);
export const createAlertRule = (input: AlertRuleInput) =>
  report(client.mutation(CreateAlertRuleDocument, { input }).toPromise(), `Rule “${input.name}” created.`);
export const updateAlertRule = (id: string, input: AlertRuleInput, done = `Rule “${input.name}” saved.`) =>
  report(client.mutation(UpdateAlertRuleDocument, { id, input }).toPromise(), done);
