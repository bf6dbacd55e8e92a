/**
 * Writer schemas a producer of card transactions might evolve to, each derived from the repository's
 * schema, with an event written in it and what streamscore must make of it: scored (and how the reader
 * sees the event) or dead-lettered with a code.
 */

import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { packagePath } from '../../src/config/index.js';
import type { CardTransaction } from '../../src/sample/index.js';

interface FieldSchema {
  name: string;
  type: unknown;
  default?: unknown;
  doc?: string;
}

interface RecordSchema {
  type: 'record';
  name: string;
  namespace: string;
  fields: FieldSchema[];
}

export const readerSchema = (): RecordSchema =>
  JSON.parse(readFileSync(packagePath('schemas/card-transaction.avsc'), 'utf8')) as RecordSchema;

export interface EvolutionCase {
  name: string;
  /** The writer schema, as JSON text. */
  schema: string;
  /** The event as the writer writes it. */
  written(event: CardTransaction): Record<string, unknown>;
  /** How the reader must see it; absent when it must be refused. */
  read?(event: CardTransaction): CardTransaction;
  refusedWith?: 'SCHEMA_INCOMPATIBLE';
}

function variant(change: (schema: RecordSchema) => void): string {
  const schema = readerSchema();
  change(schema);
  return JSON.stringify(schema);
}

const field = (schema: RecordSchema, name: string) => schema.fields.find((f) => f.name === name)!;
const without = (event: CardTransaction, name: keyof CardTransaction) => {
  const { [name]: _dropped, ...rest } = event;
  return rest;
};

export const evolutionCases: EvolutionCase[] = [
  {
    name: 'adds a field with a default',
    schema: variant((schema) => {
      schema.fields.push({ name: 'loyalty_tier', type: 'string', default: 'none' });
    }),
    written: (event) => ({ ...event, loyalty_tier: 'gold' }),
    read: (event) => event,
  },
  {
    name: 'removes a field the model does not use',
    schema: variant((schema) => {
      schema.fields = schema.fields.filter((f) => f.name !== 'ip_address');
    }),
    written: (event) => without(event, 'ip_address'),
    read: (event) => ({ ...event, ip_address: null }),
  },
  {
    name: 'adds an enum symbol',
    schema: variant((schema) => {
      const channel = field(schema, 'channel').type as { symbols: string[] };
      channel.symbols = [...channel.symbols, 'WALLET'];
    }),
    written: (event) => ({ ...event, channel: 'WALLET' }),
    read: (event) => ({ ...event, channel: 'OTHER' as CardTransaction['channel'] }),
  },
  {
    name: 'writes the amount as an int (the reader widens it to long)',
    schema: variant((schema) => {
      field(schema, 'amount_minor').type = 'int';
    }),
    written: (event) => ({ ...event, amount_minor: Number(event.amount_minor) % 1_000_000 }),
    read: (event) => ({ ...event, amount_minor: Number(event.amount_minor) % 1_000_000 }),
  },
  {
    name: 'lacks a field the model needs',
    schema: variant((schema) => {
      schema.fields = schema.fields.filter((f) => f.name !== 'amount_minor');
    }),
    written: (event) => without(event, 'amount_minor'),
    refusedWith: 'SCHEMA_INCOMPATIBLE',
  },
];

/** The Avro binary datum of `value` in `schema`. */
export const writeDatum = (schema: string, value: Record<string, unknown>): Buffer =>
  avro.Type.forSchema(JSON.parse(schema) as avro.Schema).toBuffer(value);

/** The Confluent wire format: magic byte 0, the id, the datum. */
export function wireFormat(id: number, datum: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, datum]);
}
