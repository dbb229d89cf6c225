/** Whether a value breaches a rule (alerts/rules.ts), and what a rule must be, without a database. */
import { describe, expect, it } from 'vitest';
import { breaches, COMPARATORS, validateRule } from '../../src/alerts/rules.js';
import { Severity, type AlertRuleInput } from '../../src/alerts/types.js';

describe('breaches', () => {
  it('compares the value against the threshold with each comparator, at the edge too', () => {
    const at = (comparator: string) => [breaches(comparator, 4, 5), breaches(comparator, 5, 5), breaches(comparator, 6, 5)];
    expect(Object.fromEntries(COMPARATORS.map((c) => [c, at(c)]))).toEqual({
      '>': [false, false, true],
      '>=': [false, true, true],
      '<': [true, false, false],
      '<=': [true, true, false],
      '==': [false, true, false],
      '!=': [true, false, true],
    });
  });

  it('never breaches with an unknown comparator or a NaN value', () => {
    expect(breaches('=>', 10, 5)).toBe(false);
    expect(COMPARATORS.filter((c) => c !== '!=').some((c) => breaches(c, Number.NaN, 5))).toBe(false);
  });
});

describe('validateRule', () => {
  const rule = (fields: Partial<AlertRuleInput>) => ({ name: ' cpu ', metric: 'cpu', comparator: '>', threshold: 90, severity: Severity.HIGH, ...fields }) as AlertRuleInput;
  const field = (input: AlertRuleInput) => {
    try {
      validateRule(input);
    } catch (error) {
      return (error as { extensions: { field: string } }).extensions.field;
    }
    return null;
  };

  it('trims text and fills in defaults', () => {
    expect(validateRule(rule({ service: '  ' }))).toMatchObject({ name: 'cpu', service: null, forSeconds: 0, enabled: true });
  });

  it('refuses an unknown comparator, a non-finite threshold, forSeconds out of range and an empty name', () => {
    expect(field(rule({ comparator: '=>' }))).toBe('comparator');
    expect(field(rule({ threshold: Number.POSITIVE_INFINITY }))).toBe('threshold');
    expect(field(rule({ forSeconds: -1 }))).toBe('forSeconds');
    expect(field(rule({ name: ' ' }))).toBe('name');
  });
});
