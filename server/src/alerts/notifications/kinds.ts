/** The kinds of contact points, and their settings (name → value; which ones by kind: rows.ts FIELDS). */
export const CONTACT_KINDS = ['SLACK', 'WEBHOOK', 'EMAIL', 'PAGERDUTY'] as const;
export type ContactKind = (typeof CONTACT_KINDS)[number];
export type ContactSettings = Record<string, string>;
