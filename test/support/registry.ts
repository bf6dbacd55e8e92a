/**
 * The tests' own way to the schema registry and the wire format: plain fetch and avsc, independent of
 * streamscore's client and codec, as another team's producer or consumer would be.
 */
import avro from 'avsc';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export async function registerSchema(registryUrl: string, subject: string, schema: string): Promise<number> {
  const response = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': CONTENT_TYPE },
    body: JSON.stringify({ schema }),
  });
  const body = (await response.json()) as { id?: number };
  if (!response.ok || body.id === undefined) {
    throw new Error(`registering ${subject}: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.id;
}

export async function schemaById(registryUrl: string, id: number): Promise<string> {
  const response = await fetch(`${registryUrl}/schemas/ids/${id}`);
  if (!response.ok) throw new Error(`schema ${id}: ${response.status}`);
  return ((await response.json()) as { schema: string }).schema;
}

/** Decodes wire-format values, fetching each writer schema once; returns the values and their ids. */
export async function decodeWireFormat<T>(
  registryUrl: string,
  values: readonly Buffer[],
): Promise<{ value: T; schemaId: number }[]> {
  const types = new Map<number, avro.Type>();
  const decoded: { value: T; schemaId: number }[] = [];
  for (const buffer of values) {
    if (buffer[0] !== 0) throw new Error(`magic byte ${buffer[0]}`);
    const schemaId = buffer.readUInt32BE(1);
    let type = types.get(schemaId);
    if (!type) {
      type = avro.Type.forSchema(JSON.parse(await schemaById(registryUrl, schemaId)) as avro.Schema);
      types.set(schemaId, type);
    }
    decoded.push({ value: type.fromBuffer(buffer.subarray(5)) as T, schemaId });
  }
  return decoded;
}
