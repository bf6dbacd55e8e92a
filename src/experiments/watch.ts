/**
 * The running comparison figures of this process, fed from the batches' challenger figures (a diagnostics
 * channel published once per batch), for the admin API and the metrics.
 */
import { type ChallengersScored, challengersScored, subscribe } from '../telemetry/index.js';
import { createExperimentFigures, type ExperimentFigures } from './figures.js';

export interface WatchedExperiments {
  readonly figures: ExperimentFigures;
  close(): void;
}

export function watchExperiments(options: { windowMs: number }): WatchedExperiments {
  const figures = createExperimentFigures(options);
  const unsubscribe = subscribe<ChallengersScored>(challengersScored, (batch) => {
    for (const challenger of batch.challengers) figures.addBatch(batch.champion, challenger, batch.at);
  });
  return { figures, close: unsubscribe };
}
