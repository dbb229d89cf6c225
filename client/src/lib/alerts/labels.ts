/** A rule's own labels as people type them: one `name=value` a line. */
const LABEL = /^([A-Za-z_][A-Za-z0-9_]{0,62})\s*=\s*(.*)$/;
/** Every alert has these already (the server refuses them as a rule's own). */
const BUILT_IN = ['severity', 'service', 'metric', 'rule'];

/** The labels in `text`, or why they cannot be read (naming the line). */
export function parseLabels(text: string): { labels: Record<string, string> } | { error: string } {
  const labels: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const match = LABEL.exec(line);
    if (!match) return { error: `Line ${i + 1}: “${line}” is not name=value (a name is a letter or _ then letters, digits or _).` };
    const [, name, value] = match;
    if (BUILT_IN.includes(name)) return { error: `Line ${i + 1}: ${name} is set by every alert itself; choose another name.` };
    if (name in labels) return { error: `Line ${i + 1}: ${name} is given twice.` };
    labels[name] = value.trim();
  }
  return { labels };
}

export function labelsText(labels: unknown): string {
  return Object.entries((labels ?? {}) as Record<string, string>).map(([name, value]) => `${name}=${value}`).join('\n');
}
