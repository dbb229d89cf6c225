/**
 * Labels fed from what clients send, kept to a bounded set so no client can grow the
 * metrics registry (and the server's memory) without end: each distinct label value is a
 * series held forever.
 *
 * - `operation`: the dashboard's own operations (named in its documents,
 *   client/src/lib/graphql/*.graphql), and names that signed-in callers use, the first
 *   `LEARNED_OPERATIONS_CAP` of them; every other name is `other`. Unnamed operations are
 *   `anonymous`.
 * - `method`: the HTTP methods the server answers; any other is `other`.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Kind, parse } from 'graphql';
import { inRepository } from '../core/paths.js';

/** Names beyond the dashboard's that signed-in callers may add to the `operation` label. */
export const LEARNED_OPERATIONS_CAP = 100;
export const OTHER = 'other';

const DASHBOARD_DOCUMENTS = inRepository('client', 'src', 'lib', 'graphql');
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The operation names of the dashboard's documents; none when they are not there (a server-only install). */
export async function dashboardOperationNames(dir = DASHBOARD_DOCUMENTS): Promise<string[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((file) => file.endsWith('.graphql'));
  const names: string[] = [];
  for (const file of files) {
    for (const definition of parse(await readFile(path.join(dir, file), 'utf8')).definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) names.push(definition.name.value);
    }
  }
  return names;
}

export type OperationLabel = (name: string, signedIn: boolean) => string;

/** The `operation` label of a name: known, learned from a signed-in caller while there is room, else `other`. */
export function operationLabels(known: Iterable<string>, cap = LEARNED_OPERATIONS_CAP): OperationLabel {
  const names = new Set(['anonymous', ...known]);
  let learned = 0;
  return (name, signedIn) => {
    if (names.has(name)) return name;
    if (!signedIn || learned >= cap) return OTHER;
    learned++;
    names.add(name);
    return name;
  };
}

export function methodLabel(method: string | undefined): string {
  return method && METHODS.has(method) ? method : OTHER;
}
