/** Matchers as people type them: `severity=CRITICAL, service=~pay.*` (Alertmanager's operators). */
import type { MatcherInput } from '$lib/graphql/generated/graphql';

const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"([^"]*)"|(.*?))\s*$/;

/** The matchers in `text` (comma-separated), or why they cannot be read. */
export function parseMatchers(text: string): { matchers: MatcherInput[] } | { error: string } {
  // Commas inside "…" belong to the value.
  const parts = (text.match(/(?:"[^"]*"|[^,])+/g) ?? []).map((part) => part.trim()).filter(Boolean);
  const matchers: MatcherInput[] = [];
  for (const part of parts) {
    const match = MATCHER.exec(part);
    if (!match) return { error: `“${part}” is not label=value, label!=value, label=~regex or label!~regex.` };
    matchers.push({ label: match[1], op: match[2], value: match[3] ?? match[4] });
  }
  return { matchers };
}

/** Matchers that pick out one alert: its rule and service (quoted, so a comma in a name is kept). */
export function silenceMatchers(alert: { service: string; rule: { name: string } }): string {
  return `rule="${alert.rule.name}", service="${alert.service}"`;
}

export function formatMatchers(matchers: readonly { label: string; op: string; value: string }[]): string {
  return matchers.length ? matchers.map((m) => `${m.label}${m.op}${m.value}`).join(', ') : 'every alert';
}

/** Why parsed matchers cannot be sent: unreadable, or none where some are needed (`whenEmpty`). */
export function matchersError(parsed: ReturnType<typeof parseMatchers>, whenEmpty?: string): string | undefined {
  if ('error' in parsed) return parsed.error;
  return parsed.matchers.length === 0 ? whenEmpty : undefined;
}

/** Matchers as the forms take them back (none: empty); a value with a comma or quote-worthy space is quoted. */
export function matchersText(matchers: readonly { label: string; op: string; value: string }[]): string {
  return matchers.map((m) => `${m.label}${m.op}${/[,"]|^\s|\s$/.test(m.value) ? `"${m.value}"` : m.value}`).join(', ');
}
