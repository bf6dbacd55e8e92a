/**
 * One model version loaded into onnxruntime: checks that the graph has the signature its manifest
 * promises, warms it up, and scores rows of features. Everything a data scientist can get wrong at export
 * time is refused here, at load, with a message that says how to fix it and, when onnxruntime raised the
 * error, onnxruntime's own explanation.
 */
import ort from 'onnxruntime-node';
import { StreamscoreError } from '../errors/index.js';
import { allocateFeatureRows, elementTypeOf, type FeatureRows } from '../features/index.js';
import type { ModelArtifact, ModelManifest } from '../models/index.js';
import { checkSignature, declaredWidth, signatureError, uncheckedWidthError } from './signature.js';

export interface SessionOptions {
  intraOpThreads: number;
}

export interface ScoringSession {
  readonly manifest: ModelManifest;
  /** Label of this model version for logs and predictions: name@version. */
  readonly id: string;
  /** Scores `rows` rows laid out one after another in `features`; returns one score per row. */
  score(features: FeatureRows, rows: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/** The row a session warms up with at load (zeros). Scoring it again later proves the model still runs. */
export function warmUpRow(manifest: ModelManifest): FeatureRows {
  return allocateFeatureRows(manifest.inputs[0]!.type, manifest.features.length);
}

function runtimeMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Picks the manifest's column out of a [rows, columns] output, or takes a [rows] output as is. */
function readScores(output: ort.Tensor, rows: number, column: number, manifest: ModelManifest): Float32Array {
  const data = output.data;
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) {
    throw new StreamscoreError(
      'INFERENCE_FAILED',
      `${manifest.name} output ${manifest.output.name} is ${output.type}, not a float tensor`,
    );
  }
  const columns = output.dims.length > 1 ? Number(output.dims[1]) : 1;
  if (column >= columns) {
    throw new StreamscoreError(
      'INFERENCE_FAILED',
      `${manifest.name} output has ${columns} columns, the manifest reads column ${column}`,
    );
  }
  if (columns === 1 && data instanceof Float32Array)
    return data.length === rows ? data : data.subarray(0, rows);
  const scores = new Float32Array(rows);
  for (let row = 0; row < rows; row++) scores[row] = data[row * columns + column]!;
  return scores;
}

export async function createScoringSession(
  artifact: ModelArtifact,
  options: SessionOptions,
): Promise<ScoringSession> {
  const { manifest } = artifact;
  const id = `${manifest.name}@${manifest.version}`;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(artifact.bytes, {
      executionMode: 'sequential',
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Fatal only: every error onnxruntime raises comes back in the errors thrown here, with its message.
      // Its own log lines would repeat them on stderr, outside the service's logger and its redaction, and
      // they can quote tensor values (a feature derived from a card's data).
      logSeverityLevel: 4,
    });
  } catch (error) {
    throw signatureError(
      manifest,
      `onnxruntime cannot load ${manifest.file}: ${runtimeMessage(error)}`,
      error,
    );
  }
  const input = manifest.inputs[0]!;
  const outputName = manifest.output.name;
  const width = manifest.features.length;
  const { column } = manifest.output;

  /** One run() on `rows` rows of `columns` features; the tensor wraps the rows' buffer, no copy. */
  const run = async (features: FeatureRows, rows: number, columns: number): Promise<ort.Tensor> => {
    const data = features.length === rows * columns ? features : features.subarray(0, rows * columns);
    const tensor =
      data instanceof Float64Array
        ? new ort.Tensor('float64', data, [rows, columns])
        : new ort.Tensor('float32', data, [rows, columns]);
    const outputs = await session.run({ [input.name]: tensor }, [outputName]);
    return outputs[outputName] as ort.Tensor;
  };

  const score = async (features: FeatureRows, rows: number): Promise<Float32Array> => {
    if (elementTypeOf(features) !== input.type) {
      throw new StreamscoreError(
        'INFERENCE_FAILED',
        `${id} takes ${input.type} features, it was given ${elementTypeOf(features)} ones`,
      );
    }
    let output: ort.Tensor;
    try {
      output = await run(features, rows, width);
    } catch (error) {
      // onnxruntime's message is what an operator needs when this is logged; it can quote tensor values,
      // so the per-record dead-letter reason never carries it (see isolation.ts).
      throw new StreamscoreError(
        'INFERENCE_RUN_FAILED',
        `${id} failed on a batch of ${rows}: ${runtimeMessage(error)}`,
        { cause: error },
      );
    }
    return readScores(output, rows, column, manifest);
  };

  const runsOn = async (columns: number): Promise<boolean> => {
    try {
      await run(allocateFeatureRows(input.type, columns), 1, columns);
      return true;
    } catch {
      return false;
    }
  };

  try {
    checkSignature(session, manifest);
    // A first run allocates the session's buffers and proves the graph runs on a row of the manifest's width.
    try {
      readScores(await run(warmUpRow(manifest), 1, width), 1, column, manifest);
    } catch (error) {
      throw signatureError(
        manifest,
        `the graph does not run on a row of the ${width} features the manifest maps: ${runtimeMessage(error)}`,
        error,
      );
    }
    // A dynamic width is only verified if rows one column narrower and wider are refused (see signature.ts).
    if (declaredWidth(session) === undefined) {
      const alsoRunsOn: number[] = [];
      for (const columns of [width - 1, width + 1]) {
        if (columns > 0 && (await runsOn(columns))) alsoRunsOn.push(columns);
      }
      if (alsoRunsOn.length > 0) throw uncheckedWidthError(manifest, alsoRunsOn);
    }
  } catch (error) {
    await session.release();
    throw error;
  }

  return {
    manifest,
    id,
    score,
    release: () => session.release(),
  };
}
