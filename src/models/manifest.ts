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

export const manifestSchema = z.object({
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
  labels: z.object({ negative: z.string().min(1), positive: z.string().min(1) }),
  features: z.array(featureSpecSchema).min(1),
  training: z.record(z.string(), z.unknown()).optional(),
});

export type FeatureSpec = z.infer<typeof featureSpecSchema>;
export type FeatureTransform = FeatureSpec['transforms'][number];
export type ModelManifest = z.infer<typeof manifestSchema>;
