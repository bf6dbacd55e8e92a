/**
 * Runs scripts/helmcheck (Helm's own lint and client-only render of a chart, then every rendered object
 * decoded strictly into its Kubernetes, KEDA or Prometheus Operator Go type), built on first use by
 * scripts/helmcheck/helmcheck.sh into .cache/helmcheck/. A YAML parser and hand-written checks of our own
 * would share our misreadings of Helm and of the Kubernetes API.
 */
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { packagePath } from '../../../src/config/index.js';

export interface RenderedObject {
  source: string;
  apiVersion: string;
  kind: string;
  name: string;
  /** The Go type it was decoded into, e.g. v1.Deployment; empty when no type is known for its kind. */
  type: string;
  /** Why the strict decoding failed; absent when it succeeded. */
  error?: string;
  manifest: string;
}

export interface CheckedCase {
  name: string;
  values: string[];
  ok: boolean;
  lint: { ok: boolean; messages: { severity: string; path: string; message: string }[] };
  render: { ok: boolean; error?: string; objects: RenderedObject[]; notes: string };
}

export interface HelmcheckReport {
  chart: string;
  ok: boolean;
  cases: CheckedCase[];
}

const SCRIPT = packagePath('scripts/helmcheck/helmcheck.sh');

/**
 * Lints and renders `chart` with its own values, then once per entry of `cases` with those values files
 * layered on top. Exit status 1 (a case failed) still yields the report; anything else throws.
 */
export function helmcheck(chart: string, cases: string[][] = []): HelmcheckReport {
  const result = spawnSync('bash', [SCRIPT, 'run', chart, ...cases.map((files) => files.join(','))], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0 && result.status !== 1) {
    throw new Error(`helmcheck exited ${result.status ?? result.signal}:\n${result.stderr}`);
  }
  return JSON.parse(result.stdout) as HelmcheckReport;
}

/** The one case checked with exactly these values files. */
export function caseOf(report: HelmcheckReport, files: string[] = []): CheckedCase {
  const found = report.cases.find((checked) => checked.values.join(',') === files.join(','));
  if (!found) throw new Error(`no case for [${files.join(', ')}] in the helmcheck report`);
  return found;
}

/** The rendered objects of a kind, parsed from their YAML. */
export function objectsOf<T = Record<string, unknown>>(checked: CheckedCase, kind: string): T[] {
  return checked.render.objects
    .filter((object) => object.kind === kind)
    .map((object) => parse(object.manifest) as T);
}

/** The one rendered object of a kind; throws when there is not exactly one. */
export function objectOf<T = Record<string, unknown>>(checked: CheckedCase, kind: string): T {
  const objects = objectsOf<T>(checked, kind);
  if (objects.length !== 1) throw new Error(`${checked.name}: ${objects.length} ${kind} objects, expected 1`);
  return objects[0]!;
}
