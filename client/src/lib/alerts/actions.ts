/** Alert and alert-rule actions: the mutation, then a toast saying what happened or why not. */
import { client } from '$lib/graphql/client';
import {
  AcknowledgeAlertDocument,
  CreateAlertRuleDocument,
  ResolveAlertDocument,
  UpdateAlertRuleDocument,
  type AlertRuleInput,
} from '$lib/graphql/generated/graphql';
import { refusalOf, reported as report } from '$lib/mutations';
import { createIncident } from '$lib/status/actions';

/** Status page components an alert can name (others, such as a service's name, stay off the public page). */
const COMPONENTS = ['api', 'database', 'redis'];

export const acknowledgeAlert = (id: string, name: string) =>
  report(client.mutation(AcknowledgeAlertDocument, { id }).toPromise(), `Acknowledged “${name}”.`);
export const resolveAlert = (id: string, name: string) =>
  report(client.mutation(ResolveAlertDocument, { id }).toPromise(), `Resolved “${name}”.`);
export const updateAlertRule = (id: string, input: AlertRuleInput, done = `Rule “${input.name}” saved.`) =>
  report(client.mutation(UpdateAlertRuleDocument, { id, input }).toPromise(), done);
/** Creates (id null) or saves a rule from its form: null once done, else the server's reason for the form. */
export const saveAlertRule = (input: AlertRuleInput, id: string | null) => (id
  ? refusalOf(client.mutation(UpdateAlertRuleDocument, { id, input }).toPromise(), `Rule “${input.name}” saved.`)
  : refusalOf(client.mutation(CreateAlertRuleDocument, { input }).toPromise(), `Rule “${input.name}” created.`));

/**
 * One click from a CRITICAL alert to an incident: titled by its rule (a rule's name is what the
 * status page may show; the service is named only when it is a status page component).
 */
export function openIncident(alert: { service: string; rule: { name: string; metric: string; comparator: string; threshold: number } }) {
  const { rule } = alert;
  return createIncident({
    title: rule.name,
    impact: 'CRITICAL',
    components: rule.metric === 'component_up' && COMPONENTS.includes(alert.service) ? [alert.service] : [],
    message: `Investigating: the alert “${rule.name}” fired (${rule.metric} ${rule.comparator} ${rule.threshold}).`,
  });
}
