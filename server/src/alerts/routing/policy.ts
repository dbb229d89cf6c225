/**
 * The notification policy as the dispatcher, the database-down pager and `Alert.routes` read
 * it: routes tried in position order, the first whose matchers hold takes an alert (and the
 * next ones too while `continue`); none: the default policy (every enabled contact point).
 */
import type { Config } from '../../app/config.js';
import type { Labels } from '../labels.js';
import { matcherOf, type Matches } from './matchers.js';
import type { NotificationRoute } from './types.js';

/** The timing and grouping of a route, or of the default policy (route null). */
export interface Policy {
  route: NotificationRoute | null;
  matches: Matches;
  groupBy: string[];
  groupWaitSeconds: number;
  groupIntervalSeconds: number;
  repeatIntervalSeconds: number;
}

export function policyOf(route: NotificationRoute): Policy {
  return { route, matches: matcherOf(route.matchers), ...route };
}

export function defaultPolicy(config: Config): Policy {
  return {
    route: null,
    matches: () => true,
    groupBy: ['rule', 'service'],
    groupWaitSeconds: config.alertDefaultGroupWaitSeconds,
    groupIntervalSeconds: config.alertDefaultGroupIntervalSeconds,
    repeatIntervalSeconds: config.alertDefaultRepeatIntervalSeconds,
  };
}

/** The routes that take an alert with these labels, in order; none: the default policy's turn. */
export function matchingRoutes(policies: readonly Policy[], labels: Labels): Policy[] {
  const taken: Policy[] = [];
  for (const policy of policies) {
    if (!policy.matches(labels)) continue;
    taken.push(policy);
    if (!policy.route!.continue) break;
  }
  return taken;
}

/** The routes that take an alert with these labels, in order; the default policy when none does. */
export function routesFor(policies: readonly Policy[], fallback: Policy, labels: Labels): Policy[] {
  const taken = matchingRoutes(policies, labels);
  return taken.length ? taken : [fallback];
}

/** Stable and readable: the route (or "default") and the group's label values, like Alertmanager's `{}/{service="x"}`. */
export function groupKeyOf(policy: Policy, labels: Labels): { key: string; labels: Labels } {
  const groupLabels = Object.fromEntries(policy.groupBy.map((name) => [name, labels[name] ?? '']));
  const values = policy.groupBy.map((name) => `${name}=${JSON.stringify(groupLabels[name])}`).join(',');
  return { key: `${policy.route?.id ?? 'default'}:{${values}}`, labels: groupLabels };
}
