/**
 * Counts what became of the rows the service gave its shadows, from the diagnostics channel the pipeline
 * publishes once per batch. A shadow that is shed or late costs little and compares nothing, so a figure
 * measured with a shadow means something only beside these counts.
 */
import { ScoringStatus } from '../../src/routing/index.js';
import { type ChallengersScored, challengersScored, subscribe } from '../../src/telemetry/index.js';
import type { ShadowRowCounts } from './targets.js';

export function watchShadowRows(): { readonly counts: ShadowRowCounts; close(): void } {
  const counts: ShadowRowCounts = { ok: 0, timeout: 0, error: 0, shed: 0 };
  const close = subscribe<ChallengersScored>(challengersScored, ({ challengers }) => {
    for (const challenger of challengers) {
      if (challenger.mode !== 'shadow') continue;
      for (let position = 0; position < challenger.count; position++) {
        const status = challenger.statuses[position];
        if (status === ScoringStatus.OK) counts.ok += 1;
        else if (status === ScoringStatus.TIMEOUT) counts.timeout += 1;
        else if (status === ScoringStatus.SHED) counts.shed += 1;
        else counts.error += 1;
      }
    }
  });
  return { counts, close };
}
