/**
 * Label matchers, as Alertmanager's: `=`, `!=`, `=~`, `!~`; a regular expression must match
 * the whole value (anchored). Expressions run on RE2 (re2-wasm), whose time is linear in the
 * input, so no matcher anyone writes can stall the evaluator.
 */
import { RE2 } from 're2-wasm';
import { badInput } from '../../core/errors.js';
import { codePoints } from '../../core/text.js';
import type { Labels } from '../labels.js';

export const MATCHER_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatcherOp = (typeof MATCHER_OPS)[number];
export interface MatcherSpec {
  label: string;
  op: MatcherOp;
  value: string;
}
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;
export const MAX_MATCHERS = 20;
const MAX_VALUE = 1_000;

/** A label name as labels.ts accepts them; `field` names it in the refusal. */
export function validLabelName(field: string, name: unknown): string {
  if (typeof name !== 'string' || !LABEL_NAME.test(name)) {
    throw badInput(`${field}: a label name is a letter or _ followed by letters, digits or _ (at most 63)`, { field });
  }
  return name;
}

function compile(field: string, pattern: string): RE2 {
  try {
    return new RE2(`^(?:${pattern})$`, 'u');
  } catch (error) {
    throw badInput(`${field} is not a valid regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}`, { field });
  }
}

/**
 * Checked matchers. `nonEmpty`: refuse a list that matches every alert, or that only matches
 * alerts lacking a label (a silence or inhibition like that would mute everything).
 */
export function validateMatchers(field: string, input: unknown, { nonEmpty }: { nonEmpty: boolean }): MatcherSpec[] {
  if (!Array.isArray(input)) throw badInput(`${field} must be a list of matchers`, { field });
  if (input.length > MAX_MATCHERS) throw badInput(`${field} has more than ${MAX_MATCHERS} matchers`, { field });
  const matchers = input.map((raw, i): MatcherSpec => {
    const at = `${field}.${i}`;
    const { label, op, value } = (raw ?? {}) as Record<string, unknown>;
    validLabelName(`${at}.label`, label);
    if (!MATCHER_OPS.includes(op as MatcherOp)) throw badInput(`${at}.op must be one of ${MATCHER_OPS.join(' ')}`, { field: `${at}.op` });
    if (typeof value !== 'string') throw badInput(`${at}.value must be a string`, { field: `${at}.value` });
    if (codePoints(value) > MAX_VALUE) throw badInput(`${at}.value is longer than ${MAX_VALUE} characters`, { field: `${at}.value` });
    if (op === '=~' || op === '!~') compile(`${at}.value`, value);
    return { label: label as string, op: op as MatcherOp, value };
  });
  // Alertmanager's rule for silences: at least one matcher must not match the empty string.
  if (nonEmpty && !matchers.some((m) => !matchesValue(compileMatcher(m), ''))) {
    throw badInput(`${field} must have at least one matcher that an empty or missing label does not satisfy`, { field });
  }
  return matchers;
}

interface CompiledMatcher extends MatcherSpec {
  regex?: RE2;
}

function compileMatcher(matcher: MatcherSpec): CompiledMatcher {
  return matcher.op === '=~' || matcher.op === '!~' ? { ...matcher, regex: compile('value', matcher.value) } : matcher;
}

function matchesValue(matcher: CompiledMatcher, value: string): boolean {
  switch (matcher.op) {
    case '=': return value === matcher.value;
    case '!=': return value !== matcher.value;
    case '=~': return matcher.regex!.test(value);
    case '!~': return !matcher.regex!.test(value);
  }
}

export type Matches = (labels: Labels) => boolean;

/** All must hold; a missing label is the empty string (as in Prometheus). */
export function matcherOf(matchers: readonly MatcherSpec[]): Matches {
  const compiled = matchers.map(compileMatcher);
  return (labels) => compiled.every((m) => matchesValue(m, labels[m.label] ?? ''));
}

/** Matchers as stored (jsonb) → specs; rows were checked when written. */
export function matchersFromRow(value: unknown): MatcherSpec[] {
  return Array.isArray(value) ? (value as MatcherSpec[]) : [];
}

/** Checked label names (groupBy, equal): no repeats. */
export function validateLabelNames(field: string, input: readonly unknown[]): string[] {
  if (input.length > MAX_MATCHERS) throw badInput(`${field} has more than ${MAX_MATCHERS} labels`, { field });
  const names = input.map((name, i) => validLabelName(`${field}.${i}`, name));
  if (new Set(names).size !== names.length) throw badInput(`${field} names a label twice`, { field });
  return names;
}
