/**
 * Feature rows as the model's input tensor takes them: float32 for most models, float64 for the ones
 * whose split thresholds need the bits float32 would round away (see models/MANIFEST-FORMAT.md). Rows of
 * one model all have its element type, from the extractor that fills them to the tensor that reads them,
 * so nothing on the way converts or copies them.
 */

export type FeatureElementType = 'float32' | 'float64';

export type FeatureRows = Float32Array | Float64Array;

/** `length` zeros of the element type. */
export function allocateFeatureRows(elementType: FeatureElementType, length: number): FeatureRows {
  return elementType === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

export function elementTypeOf(rows: FeatureRows): FeatureElementType {
  return rows instanceof Float64Array ? 'float64' : 'float32';
}
