/**
 * Drift windows fed from the scored batches (the champion-scored diagnostics channel), one per model
 * version with a baseline, off the scoring path's critical section: a batch is counted after its scores
 * exist, by binary searches into preallocated counts. Windows close by count when a batch fills them and by
 * time on a one-second tick, so a quiet stream still reports.
 */
import type { ModelManifest } from '../models/index.js';
import { type ChampionScored, championScored, type Logger, subscribe } from '../telemetry/index.js';
import { createDriftWindow, type DriftOptions, type DriftReport, type DriftWindow } from './drift.js';

export interface DriftWatchOptions extends DriftOptions {
  onReport(report: DriftReport): void;
}

export interface DriftWatch {
  /** The last report of each model version, for metrics. */
  latest(): readonly DriftReport[];
  close(): void;
}

const TICK_MS = 1_000;
export function watchDrift(options: DriftWatchOptions, logger: Logger): DriftWatch {
  // null: a version served without a baseline, said once.
  const windows = new Map<ModelManifest, DriftWindow | null>();
  const latest = new Map<string, DriftReport>();
  let missing = new Uint8Array(0);

  const report = (found: DriftReport) => {
    latest.set(`${found.modelName}@${found.modelVersion}`, found);
    options.onReport(found);
  };

  const windowOf = (manifest: ModelManifest): DriftWindow | null => {
    let window = windows.get(manifest);
    if (window === undefined) {
      // A new version of a model retires the windows of its others (a rollback starts a fresh one).
      for (const served of windows.keys()) if (served.name === manifest.name) windows.delete(served);
      window = createDriftWindow(manifest, options) ?? null;
      windows.set(manifest, window);
      if (window === null) {
        logger.info(
          { model: manifest.name, version: manifest.version },
          'model has no training baseline in its manifest: served without drift monitoring',
        );
      }
    }
    return window;
  };

  const unsubscribe = subscribe<ChampionScored>(championScored, (batch) => {
    const window = windowOf(batch.manifest);
    // A batch holding rows the model failed on is rare and its scores are not all the model's: skipped.
    if (window === null || batch.count === 0 || batch.failedRows.length > 0) return;
    const { features } = batch.manifest;
    const width = features.length;
    if (missing.length < batch.count * width) missing = new Uint8Array(batch.count * width * 2);
    let anyMissing = false;
    for (let row = 0; row < batch.count; row++) {
      const record = batch.records[row]!;
      for (let feature = 0; feature < width; feature++) {
        const value = record[features[feature]!.field];
        const isMissing = value === null || value === undefined;
        missing[row * width + feature] = isMissing ? 1 : 0;
        anyMissing ||= isMissing;
      }
    }
    window.add(batch.rows, width, batch.count, batch.scores, anyMissing ? missing : undefined, batch.at);
    const closed = window.closeIfDue(batch.at);
    if (closed) report(closed);
  });

  const tick = setInterval(() => {
    const now = Date.now();
    for (const window of windows.values()) {
      const closed = window?.closeIfDue(now);
      if (closed) report(closed);
    }
  }, TICK_MS);
  tick.unref();

  return {
    latest: () => [...latest.values()],
    close() {
      clearInterval(tick);
      unsubscribe();
    },
  };
}
