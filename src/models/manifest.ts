/** The manifest that travels with every model file: see models/MANIFEST-FORMAT.md. */
import { z } from 'zod';

const transformSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('scale'), factor: z.number() }),
  z.object({ op: z.literal('log1p') }),
  z.object({ op: z.literal('clip'), min: z.number(), max: z.number() }),
  z.object({ op: z.literal('equals'), value: z.union([z.string(), z.number(), z.boolean()]) }),
  z.object({
    op: z.literal('in_set'),
    values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
  }),
  z.object({ op: z.literal('is_null') }),
  z.object({ op: z.literal('differs_from_field'), field: z.string().min(1) }),
  z.object({ op: z.literal('hour_of_day_utc') }),
]);

export const featureSpecSchema = z.object({
  name: z.string().min(1),
  field: z.string().min(1),
  default: z.number().optional(),
  transforms: z.array(transformSchema).default([]),
});

/**
 * The training distribution of one feature or of the score, for drift monitoring (MANIFEST-FORMAT.md,
 * "Baseline"). A number is binned by `edges` (k − 1 increasing interior edges for k bins: bin i holds
 * edges[i−1] ≤ x < edges[i]); an indicator or small set of values by `values` (one bin per value).
 */
const baselineBinsSchema = z
  .object({
    edges: z.array(z.number()).optional(),
    values: z.array(z.number()).optional(),
    proportions: z.array(z.number().min(0).max(1)).min(2),
  })
  .refine((bins) => (bins.edges === undefined) !== (bins.values === undefined), 'either edges or values')
  .refine(
    (bins) =>
      bins.edges === undefined ||
      (bins.proportions.length === bins.edges.length + 1 &&
        bins.edges.every((e, i, all) => i === 0 || all[i - 1]! < e)),
    'edges increasing, one proportion more than edges',
  )
  .refine(
    (bins) => bins.values === undefined || bins.proportions.length === bins.values.length,
    'one proportion per value',
  )
  .refine(
    (bins) => Math.abs(bins.proportions.reduce((sum, share) => sum + share, 0) - 1) < 1e-6,
    'proportions sum to 1',
  );

export const baselineSchema = z.object({
  /** Rows the proportions were counted over (the sample scripts use the held-out test split). */
  samples: z.number().int().positive(),
  /** In the manifest's feature order, one per feature. */
  features: z.array(
    baselineBinsSchema.and(
      z.object({
        name: z.string().min(1),
        /** The training median: what occlusion sets a feature to when it asks what the feature added. */
        median: z.number(),
        /** Share of training rows whose field was null (default applied or is_null). */
        missing: z.number().min(0).max(1).default(0),
      }),
    ),
  ),
  score: baselineBinsSchema,
});

/**
 * How to attribute a score to features for alerts' reason codes. `linear`: contribution of feature j to
 * the logit = coefficients[j] × (x_j − center[j]) (center defaults to 0, exact for a logistic regression
 * on the features as served). `occlusion`: feature j set to the baseline's median and re-scored; its
 * contribution is the score's drop.
 */
export const explanationSchema = z.discriminatedUnion('method', [
  z.object({
    method: z.literal('linear'),
    coefficients: z.array(z.number()).min(1),
    intercept: z.number(),
    center: z.array(z.number()).optional(),
  }),
  z.object({ method: z.literal('occlusion') }),
]);

export const manifestSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, dot, dash, underscore'),
    version: z.string().min(1),
    file: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex sha256'),
    inputs: z
      .array(
        z.object({
          name: z.string().min(1),
          // float64 for models whose split thresholds float32 would round across (MANIFEST-FORMAT.md).
          type: z.enum(['float32', 'float64']),
          shape: z.tuple([z.number().int(), z.number().int().positive()]),
        }),
      )
      .length(1, 'one float32 or float64 input of shape [batch, features]'),
    output: z.object({ name: z.string().min(1), column: z.number().int().nonnegative().default(0) }),
    threshold: z.number().min(0).max(1),
    /** Scores at or above it raise an alert (monitoring.alerts); the decision threshold when absent. */
    alertThreshold: z.number().min(0).max(1).optional(),
    labels: z.object({ negative: z.string().min(1), positive: z.string().min(1) }),
    features: z.array(featureSpecSchema).min(1),
    training: z.record(z.string(), z.unknown()).optional(),
    /** Without one the version is served without drift monitoring. */
    baseline: baselineSchema.optional(),
    /** Without one, alerts carry occlusion reason codes when a baseline gives the medians, else none. */
    explanation: explanationSchema.optional(),
  })
  .superRefine((manifest, context) => {
    const width = manifest.features.length;
    const baseline = manifest.baseline?.features;
    if (
      baseline &&
      (baseline.length !== width || baseline.some((bins, j) => bins.name !== manifest.features[j]!.name))
    ) {
      context.addIssue({
        code: 'custom',
        path: ['baseline', 'features'],
        message: 'one entry per feature, in the same order and with the same names',
      });
    }
    const explanation = manifest.explanation;
    if (
      explanation?.method === 'linear' &&
      (explanation.coefficients.length !== width ||
        (explanation.center && explanation.center.length !== width))
    ) {
      context.addIssue({
        code: 'custom',
        path: ['explanation'],
        message: `one coefficient (and center) per feature: ${width}`,
      });
    }
  });

export type FeatureSpec = z.infer<typeof featureSpecSchema>;
export type FeatureTransform = FeatureSpec['transforms'][number];
export type ModelManifest = z.infer<typeof manifestSchema>;
export type ModelBaseline = z.infer<typeof baselineSchema>;
export type BaselineBins = z.infer<typeof baselineBinsSchema>;
export type ModelExplanation = z.infer<typeof explanationSchema>;
