/**
 * What a model version's graph must agree on with its manifest before it serves: one input of the
 * manifest's name, element type and width, and the output the score is read from. Each refusal says how to
 * fix the export. The checks the graph's declared signature can settle are here; the ones only inference
 * can settle (a dynamic width) are run by the session with these messages.
 */
import type ort from 'onnxruntime-node';
import { ConfigurationError } from '../errors/index.js';
import type { ModelManifest } from '../models/index.js';

export function signatureError(
  manifest: ModelManifest,
  problem: string,
  cause?: unknown,
): ConfigurationError {
  return new ConfigurationError(
    'MODEL_SIGNATURE_MISMATCH',
    `refusing ${manifest.name}@${manifest.version}: ${problem}`,
    cause === undefined ? undefined : { cause },
  );
}

/** The graph's input width, or undefined when the graph leaves it dynamic. */
export function declaredWidth(session: ort.InferenceSession): number | undefined {
  const metadata = session.inputMetadata[0];
  const width = metadata?.isTensor ? metadata.shape[1] : undefined;
  // onnxruntime-node reports a dynamic dimension by its symbolic name, "" when it has none.
  return typeof width === 'number' && width >= 0 ? width : undefined;
}

/** skl2onnx's name for an input of the manifest's element type, for the advice in refusals. */
function skl2onnxTensorType(manifest: ModelManifest): string {
  return manifest.inputs[0]!.type === 'float64' ? 'DoubleTensorType' : 'FloatTensorType';
}

function typeAdvice(graphType: string): string {
  return graphType === 'float32' || graphType === 'float64'
    ? `set the manifest's input type to ${graphType}`
    : 'streamscore feeds float32 or float64 features: export with FloatTensorType or DoubleTensorType';
}

export function checkSignature(session: ort.InferenceSession, manifest: ModelManifest): void {
  const input = manifest.inputs[0]!;
  if (session.inputNames.length !== 1 || session.inputNames[0] !== input.name) {
    throw signatureError(
      manifest,
      `the graph's inputs are [${session.inputNames.join(', ')}], the manifest says [${input.name}]`,
    );
  }
  const inputMetadata = session.inputMetadata[0];
  if (inputMetadata?.isTensor && inputMetadata.type !== input.type) {
    throw signatureError(
      manifest,
      `input ${input.name} is ${inputMetadata.type}, the manifest says ${input.type}: ${typeAdvice(inputMetadata.type)}`,
    );
  }
  const width = declaredWidth(session);
  if (width !== undefined && width !== input.shape[1]) {
    throw signatureError(
      manifest,
      `input ${input.name} has ${width} columns, the manifest maps ${input.shape[1]}`,
    );
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

/**
 * The refusal of a graph whose width is dynamic and that also runs on rows of other widths: it does not
 * check how many columns it gets, so a manifest mapping too few or too many features would be served.
 * skl2onnx exports do this: a tree ensemble reads only the columns its splits use and ignores wider rows,
 * and a linear classifier runs on narrower rows.
 */
export function uncheckedWidthError(
  manifest: ModelManifest,
  alsoRunsOn: readonly number[],
): ConfigurationError {
  const input = manifest.inputs[0]!;
  return signatureError(
    manifest,
    `input ${input.name} has a dynamic width and the graph also runs on rows of ${alsoRunsOn.join(' and ')} ` +
      `columns, so nothing shows that it reads the ${input.shape[1]} features the manifest maps; re-export with ` +
      `a fixed width: skl2onnx initial_types=[('${input.name}', ${skl2onnxTensorType(manifest)}([None, ${input.shape[1]}]))]`,
  );
}
