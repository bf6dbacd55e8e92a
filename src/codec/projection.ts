/**
 * Decoding only the fields something reads. A record's other fields are skipped by Avro's schema resolution
 * (a string costs its length, not a string), so scoring an event with a card number, an account id and an
 * IP address never decodes those: less work and garbage per record, and personal data that is never made
 * into a value outside the record's bytes.
 */
import avro from 'avsc';
import type { AvroResolver } from './avro.js';

/** The record type decoded values have: the reader schema's, or its fields that were asked for. */
export interface FieldProjection {
  readonly type: avro.Type;
  /** Increases whenever `type` changes, so a resolver built against an older one is built again. */
  readonly generation: number;
  /** From now on decode these fields too; the first call narrows decoding from every field to these. */
  readFields(fields: Iterable<string>): void;
  /** How to read bytes written in `writer` as `type`; undefined when they are read as they are. */
  resolverFrom(writer: avro.Type): AvroResolver | undefined;
}

interface RecordField {
  name: string;
  type: avro.Type;
}

function fieldsOf(type: avro.Type): readonly RecordField[] {
  return (type as avro.Type & { fields?: RecordField[] }).fields ?? [];
}

/**
 * The record `reader` with only the fields named in `kept`, in the reader's order, each with its type and
 * default. Field types are passed as types, not schemas, so a named type defined in a dropped field still
 * resolves; the record keeps the reader's name, which resolution matches the writer's against.
 */
function projectRecord(reader: avro.Type, kept: ReadonlySet<string>): avro.Type {
  const schema = reader.schema({ exportAttrs: true }) as {
    fields: { name: string; default?: unknown }[];
  } & Record<string, unknown>;
  const fields = fieldsOf(reader).flatMap((field, index) => {
    if (!kept.has(field.name)) return [];
    const written = schema.fields[index]!;
    return [
      { name: field.name, type: field.type, ...('default' in written ? { default: written.default } : {}) },
    ];
  });
  return avro.Type.forSchema({ ...schema, fields } as unknown as avro.Schema);
}

export function createFieldProjection(reader: avro.Type): FieldProjection {
  const wanted = new Set<string>();
  const known = new Set(fieldsOf(reader).map(({ name }) => name));
  let type = reader;
  let generation = 0;
  return {
    get type() {
      return type;
    },
    get generation() {
      return generation;
    },
    readFields(fields) {
      if (known.size === 0) return; // not a record: nothing to leave out
      const before = wanted.size;
      for (const field of fields) if (known.has(field)) wanted.add(field);
      if (wanted.size === before && generation > 0) return;
      type = projectRecord(reader, wanted);
      generation += 1;
    },
    resolverFrom(writer) {
      return writer.equals(type) ? undefined : type.createResolver(writer);
    },
  };
}
