/**
 * The Kubernetes manifest against the service it deploys: probes on routes the admin server serves, on the
 * port it listens on, a grace period longer than the service's own shutdown deadline, and scrape
 * annotations that point at /metrics.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig, packagePath } from '../../src/config/index.js';
import { healthRoutes, trackReadiness } from '../../src/service/health.js';

interface Probe {
  httpGet: { path: string; port: string };
}

interface Deployment {
  kind: 'Deployment';
  spec: {
    template: {
      metadata: { annotations: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        containers: {
          ports: { name: string; containerPort: number }[];
          startupProbe: Probe;
          livenessProbe: Probe;
          readinessProbe: Probe;
        }[];
      };
    };
  };
}

const documents = parseAllDocuments(readFileSync(packagePath('deploy/kubernetes/streamscore.yaml'), 'utf8'));
const deployment = documents
  .map((document) => document.toJS() as { kind: string })
  .find((resource): resource is Deployment => resource.kind === 'Deployment')!;
const pod = deployment.spec.template;
const [container] = pod.spec.containers;
const defaults = loadConfig({ env: {} });

describe('the Kubernetes manifest', () => {
  it('probes routes the admin server serves, on its port', () => {
    const health = healthRoutes(trackReadiness(1_000, () => true));
    const served = health.routes.map((route) => route.path);
    health.close();
    const admin = container!.ports.find((port) => port.name === 'admin');
    expect(admin?.containerPort).toBe(defaults.admin.port);
    for (const probe of [container!.startupProbe, container!.livenessProbe, container!.readinessProbe]) {
      expect(served).toContain(probe.httpGet.path);
      expect(probe.httpGet.port).toBe('admin');
    }
    expect(container!.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container!.readinessProbe.httpGet.path).toBe('/readyz');
  });

  it('gives the process longer than its own shutdown deadline before SIGKILL', () => {
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(defaults.shutdown.timeoutMs);
  });

  it('points scrape annotations at /metrics on the admin port', () => {
    expect(pod.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(defaults.admin.port),
      'prometheus.io/path': '/metrics',
    });
  });
});
