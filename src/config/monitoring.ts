/** The `monitoring` section: alerts with reason codes, drift windows, the ground-truth join, retrain signals. */
import { z } from 'zod';

const positiveInt = () => z.number().int().positive();
const share = () => z.number().min(0).max(1);

export const monitoringSchema = z.object({
  alerts: z
    .boolean()
    .default(false)
    .describe(
      "Publish an alert with reason codes for every prediction at or above the model's alert threshold, in the same produce request (or transaction) as the predictions.",
    ),
  alertsTopic: z.string().default('').describe('Topic of alerts; empty = <output.topic>.alerts.'),
  reasonCodes: positiveInt().default(3).describe('Reason codes per alert: the top features by contribution.'),
  drift: z
    .boolean()
    .default(false)
    .describe(
      "Compare windows of inputs and scores with the model's training baseline (PSI) and publish each window on monitoring.topic.",
    ),
  topic: z
    .string()
    .default('')
    .describe(
      'Topic of drift windows, ground-truth reports and retrain suggestions; empty = <output.topic>.monitoring.',
    ),
  driftWindowEvents: positiveInt()
    .default(10_000)
    .describe('A drift window closes after this many events...'),
  driftWindowMs: positiveInt()
    .default(300_000) // five minutes
    .describe('...or this long after its first event, whichever comes first.'),
  driftMinSamples: positiveInt()
    .default(1_000)
    .describe(
      'Events a window needs before it is judged; a window closing by time with fewer keeps counting.',
    ),
  psiWarn: z.number().positive().default(0.1).describe('PSI from which a feature or the score is WARN.'),
  psiAlert: z.number().positive().default(0.25).describe('PSI from which a feature or the score is ALERT.'),
  driftIgnoreFeatures: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Features whose PSI is reported but never raises the severity, e.g. an hour of day watched over windows shorter than a day.',
    ),
  labelsTopic: z
    .string()
    .default('')
    .describe(
      'Topic of ground-truth labels (schemas/label.avsc) joined to predictions by event_id; empty = no join.',
    ),
  labelTtlMs: positiveInt()
    .default(7 * 24 * 3_600_000) // a week
    .describe(
      'How long a prediction waits for its label (and a label for its prediction) before it counts as expired.',
    ),
  maxPendingJoins: positiveInt()
    .default(1_000_000)
    .describe('Predictions and labels held waiting for each other; the oldest expire first beyond it.'),
  reportIntervalMs: positiveInt()
    .default(60_000) // one minute
    .describe('How often ground-truth figures are published on monitoring.topic.'),
  retrainMinPrecision: share()
    .default(0)
    .describe('Online precision below which (held for retrainAfterMs) a retrain is suggested; 0 = never.'),
  retrainMinRecall: share()
    .default(0)
    .describe('Online recall below which (held for retrainAfterMs) a retrain is suggested; 0 = never.'),
  retrainOnDrift: z
    .boolean()
    .default(true)
    .describe('Suggest a retrain when every drift window over retrainAfterMs was ALERT.'),
  retrainAfterMs: positiveInt()
    .default(3_600_000) // an hour
    .describe('How long a retrain condition must hold before it is suggested (once per model version).'),
});

export type MonitoringConfig = z.infer<typeof monitoringSchema>;
