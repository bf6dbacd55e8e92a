/**
 * Drift on purpose: rules that bend the sample stream the way production streams go wrong, so drift
 * monitoring can be shown to notice. `units:amount_minor=100` multiplies a number (a producer switching
 * units), `set:channel=MOTO@0.3` gives a field one value in a share of events (a mix that moved), and
 * `nulls:device_id@0.5` empties a nullable field in a share of events (an upstream enrichment failing).
 */
import { ConfigurationError } from '../errors/index.js';
import type { Random } from './random.js';
import type { CardTransaction } from './transactions.js';

const NUMERIC_FIELDS = ['amount_minor', 'latitude', 'longitude'] as const;
const NULLABLE_FIELDS = ['device_id', 'ip_address', 'latitude', 'longitude'] as const;
const SETTABLE_FIELDS = ['channel', 'merchant_category', 'country', 'card_country', 'currency'] as const;

type NumericField = (typeof NUMERIC_FIELDS)[number];
type NullableField = (typeof NULLABLE_FIELDS)[number];
type SettableField = (typeof SETTABLE_FIELDS)[number];

export type DriftRule =
  | { kind: 'units'; field: NumericField; factor: number }
  | { kind: 'set'; field: SettableField; value: string; share: number }
  | { kind: 'nulls'; field: NullableField; share: number };

function invalid(message: string): ConfigurationError {
  return new ConfigurationError('CONFIG_INVALID', message);
}

const RULE_SYNTAX = 'units:<field>=<factor>, set:<field>=<value>@<share> or nulls:<field>@<share>';

function oneOf<T extends string>(fields: readonly T[], field: string, rule: string): T {
  const found = fields.find((candidate) => candidate === field);
  if (found === undefined) throw invalid(`${rule}: the field must be one of ${fields.join(', ')}`);
  return found;
}

function share(text: string, rule: string): number {
  const value = Number(text);
  if (!(value > 0 && value <= 1)) throw invalid(`${rule}: the share must be in (0, 1]`);
  return value;
}

/** Parses one rule as the CLI takes it; a malformed rule says what the syntax is. */
export function parseDriftRule(rule: string): DriftRule {
  const units = /^units:([a-z_]+)=([^@]+)$/.exec(rule);
  if (units) {
    const factor = Number(units[2]);
    if (!Number.isFinite(factor) || factor === 0)
      throw invalid(`${rule}: the factor must be a non-zero number`);
    return { kind: 'units', field: oneOf(NUMERIC_FIELDS, units[1]!, rule), factor };
  }
  const set = /^set:([a-z_]+)=([^@]+)@(.+)$/.exec(rule);
  if (set) {
    return {
      kind: 'set',
      field: oneOf(SETTABLE_FIELDS, set[1]!, rule),
      value: set[2]!,
      share: share(set[3]!, rule),
    };
  }
  const nulls = /^nulls:([a-z_]+)@(.+)$/.exec(rule);
  if (nulls)
    return { kind: 'nulls', field: oneOf(NULLABLE_FIELDS, nulls[1]!, rule), share: share(nulls[2]!, rule) };
  throw invalid(`${rule}: expected ${RULE_SYNTAX}`);
}

function apply(rule: DriftRule, event: CardTransaction, random: Random): void {
  switch (rule.kind) {
    case 'units': {
      const value = event[rule.field];
      if (value !== null)
        event[rule.field] =
          rule.field === 'amount_minor' ? Math.round(value * rule.factor) : value * rule.factor;
      return;
    }
    case 'set':
      // The channel's symbols are the schema's: a value outside them fails at encoding, naming the field.
      if (random.chance(rule.share)) Object.assign(event, { [rule.field]: rule.value });
      return;
    case 'nulls':
      if (random.chance(rule.share)) event[rule.field] = null;
      return;
  }
}

/** The stream with every rule applied to every event, in order; the random draws are the rules' own. */
export function* withDrift(
  events: Iterator<CardTransaction>,
  rules: readonly DriftRule[],
  random: Random,
): Generator<CardTransaction> {
  for (;;) {
    const next = events.next();
    if (next.done) return;
    const event = next.value;
    for (const rule of rules) apply(rule, event, random);
    yield event;
  }
}
