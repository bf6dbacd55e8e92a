/**
 * One model version loaded into onnxruntime: checks that the graph has the signature its manifest
 * promises, warms it up, and scores rows of features. Everything a data scientist can get wrong at export
 * time is refused here, at load, with a message that says how to fix it.
 */
import ort from 'onnxruntime-node';
import { ConfigurationError, StreamscoreError } from '../errors/index.js';
import type { ModelArtifact, ModelManifest } from '../models/index.js';

export interface SessionOptions {
  intraOpThreads: number;
}

export interface ScoringSession {
  readonly manifest: ModelManifest;
  /** Label of this model version for logs and predictions: name@version. */
  readonly id: string;
  /** Scores `rows` rows laid out one after another in `features`; returns one score per row. */
  score(features: Float32Array, rows: number): Promise<Float32Array>;
  release(): Promise<void>;
}

function signatureError(manifest: ModelManifest, problem: string): ConfigurationError {
  return new ConfigurationError(
    'MODEL_SIGNATURE_MISMATCH',
    `refusing ${manifest.name}@${manifest.version}: ${problem}`,
  );
}

function checkSignature(session: ort.InferenceSession, manifest: ModelManifest): void {
  const input = manifest.inputs[0]!;
  if (session.inputNames.length !== 1 || session.inputNames[0] !== input.name) {
    throw signatureError(
      manifest,
      `the graph's inputs are [${session.inputNames.join(', ')}], the manifest says [${input.name}]`,
    );
  }
  const inputMetadata = session.inputMetadata[0];
  if (inputMetadata?.isTensor) {
    if (inputMetadata.type !== 'float32') {
      throw signatureError(manifest, `input ${input.name} is ${inputMetadata.type}, expected float32`);
    }
    const width = inputMetadata.shape[1];
    if (typeof width === 'number' && width !== input.shape[1]) {
      throw signatureError(
        manifest,
        `input ${input.name} has ${width} columns, the manifest maps ${input.shape[1]}`,
      );
    }
  }
  const outputIndex = session.outputNames.indexOf(manifest.output.name);
  if (outputIndex < 0) {
    throw signatureError(
      manifest,
      `the graph has no output ${manifest.output.name} (it has ${session.outputNames.join(', ')})`,
    );
  }
  const outputMetadata = session.outputMetadata[outputIndex];
  if (outputMetadata && !outputMetadata.isTensor) {
    throw signatureError(
      manifest,
      `output ${manifest.output.name} is a sequence of maps, not a tensor (scikit-learn's ZipMap); re-export with ` +
        `skl2onnx options={id(model): {'zipmap': False}} and read the probabilities tensor`,
    );
  }
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
  const session = await ort.InferenceSession.create(artifact.bytes, {
    executionMode: 'sequential',
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    checkSignature(session, manifest);
  } catch (error) {
    await session.release();
    throw error;
  }
  const inputName = manifest.inputs[0]!.name;
  const outputName = manifest.output.name;
  const width = manifest.features.length;
  const { column } = manifest.output;

  const score = async (features: Float32Array, rows: number): Promise<Float32Array> => {
    const tensor = new ort.Tensor(
      'float32',
      features.length === rows * width ? features : features.subarray(0, rows * width),
      [rows, width],
    );
    let outputs: ort.InferenceSession.OnnxValueMapType;
    try {
      outputs = await session.run({ [inputName]: tensor }, [outputName]);
    } catch (error) {
      throw new StreamscoreError(
        'INFERENCE_RUN_FAILED',
        `${manifest.name}@${manifest.version} failed on a batch of ${rows}`,
        { cause: error },
      );
    }
    return readScores(outputs[outputName] as ort.Tensor, rows, column, manifest);
  };

  try {
    // A first run allocates the session's buffers and proves the graph runs on a row of the right width.
    await score(new Float32Array(width), 1);
  } catch (error) {
    await session.release();
    throw error;
  }

  return {
    manifest,
    id: `${manifest.name}@${manifest.version}`,
    score,
    release: () => session.release(),
  };
}
