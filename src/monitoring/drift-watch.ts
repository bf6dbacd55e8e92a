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

/**
 * Where a batch learns which features' fields were null (the manifest's `missing`): an `is_null`
 * indicator's own value says it, a feature with a `default` needs its record's field read, and any other
 * feature is never null in a scored row (its record was refused). Reading fields by name for every feature
 * of every record cost the main thread more than counting the bins.
 */
interface NullSources {
  /** Columns whose value is 1 exactly when their field was null. */
  indicatorColumns: readonly number[];
  /** Columns with a default, and the field each reads. */
  fields: readonly { column: number; field: string }[];
}

const nullSources = new WeakMap<ModelManifest, NullSources>();

function nullSourcesOf(manifest: ModelManifest): NullSources {
  let found = nullSources.get(manifest);
  if (found === undefined) {
    const indicatorColumns: number[] = [];
    const fields: { column: number; field: string }[] = [];
    manifest.features.forEach((feature, column) => {
      const [first, ...rest] = feature.transforms;
      if (first?.op === 'is_null' && rest.length === 0) indicatorColumns.push(column);
      else if (feature.default !== undefined || first?.op === 'is_null')
        fields.push({ column, field: feature.field });
    });
    found = { indicatorColumns, fields };
    nullSources.set(manifest, found);
  }
  return found;
}

/** Sets `missing[row * width + column]` to 1 where the field was null; whether any was. */
function flagNulls(
  records: readonly Readonly<Record<string, unknown>>[],
  rows: ArrayLike<number>,
  count: number,
  width: number,
  nulls: NullSources,
  missing: Uint8Array,
): boolean {
  let any = false;
  for (const column of nulls.indicatorColumns) {
    for (let row = 0; row < count; row++) {
      if (rows[row * width + column] === 1) {
        missing[row * width + column] = 1;
        any = true;
      }
    }
  }
  for (const { column, field } of nulls.fields) {
    for (let row = 0; row < count; row++) {
      const value = records[row]![field];
      if (value === null || value === undefined) {
        missing[row * width + column] = 1;
        any = true;
      }
    }
  }
  return any;
}

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
    const width = batch.manifest.features.length;
    const nulls = nullSourcesOf(batch.manifest);
    let anyMissing = false;
    if (nulls.fields.length > 0 || nulls.indicatorColumns.length > 0) {
      const size = batch.count * width;
      if (missing.length < size) missing = new Uint8Array(size * 2);
      missing.fill(0, 0, size);
      anyMissing = flagNulls(batch.records, batch.rows, batch.count, width, nulls, missing);
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
