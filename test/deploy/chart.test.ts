/**
 * The Helm chart against Helm and the Kubernetes API, and against the service it deploys. scripts/helmcheck
 * lints it (`helm lint --strict`), renders it client-only (`helm template`) with its own values and each
 * ci/ overrides file, and decodes every object strictly into its API type; the tests then hold the rendered
 * YAML to the service: probes on routes the admin server serves, on the port it listens on, a grace period
 * longer than its shutdown deadline, only STREAMSCORE_* variables it reads, and a ConfigMap it accepts.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig, type Setting, settings } from '../../src/config/index.js';
import { healthRoutes, trackReadiness } from '../../src/service/health.js';
import { CHART_DIR } from './support/chart-docs.js';
import {
  type CheckedCase,
  caseOf,
  type HelmcheckReport,
  helmcheck,
  objectOf,
  objectsOf,
} from './support/helmcheck.js';

interface Probe {
  httpGet: { path: string; port: string; scheme: string };
}

interface ProjectedSource {
  secret?: { name: string; items: { key: string; path: string }[] };
  configMap?: { name: string; items: { key: string; path: string }[] };
}

interface Deployment {
  spec: {
    replicas?: number;
    template: {
      metadata: { annotations: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        automountServiceAccountToken: boolean;
        securityContext: { runAsNonRoot: boolean; runAsUser: number };
        containers: {
          envFrom: { configMapRef: { name: string } }[];
          ports: { name: string; containerPort: number }[];
          startupProbe: Probe;
          livenessProbe: Probe;
          readinessProbe: Probe;
          securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
          volumeMounts: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
        }[];
        volumes: {
          name: string;
          emptyDir?: object;
          projected?: { sources: ProjectedSource[] };
          persistentVolumeClaim?: { claimName: string; readOnly: boolean };
          image?: { reference: string };
        }[];
      };
    };
  };
}

interface ConfigMap {
  metadata: { name: string };
  data: Record<string, string>;
}

interface ScaledObject {
  spec: {
    scaleTargetRef: { name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[];
  };
}

interface TriggerAuthentication {
  metadata: { name: string };
  spec: {
    secretTargetRef?: { parameter: string; name: string; key: string }[];
    configMapTargetRef?: { parameter: string; name: string; key: string }[];
  };
}

const CI_DIR = join(CHART_DIR, 'ci');
const ciFiles = readdirSync(CI_DIR)
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => join(CI_DIR, file));
const ciFile = (name: string) => join(CI_DIR, name);
const defaults = loadConfig({ env: {} });
const FILE_SUFFIX = '_FILE';
const secretSettings = settings.filter((setting) => setting.secret);

const work = mkdtempSync(join(tmpdir(), 'streamscore-chart-'));
function valuesFile(name: string, values: unknown): string {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, stringify(values));
  return file;
}

/** A value of each setting's type that the service accepts, and the text the ConfigMap must then hold. */
const SAMPLES: Record<string, unknown> = {
  'model.workers': '2',
  'input.loops': '2',
  'input.readerVersion': '3',
  // Below input.sessionTimeoutMs's sample (the integers' 1,048,576), as the service requires.
  'input.heartbeatIntervalMs': 1_000,
  'admin.host': '::',
  'admin.port': 9999,
  'kafka.brokers': ['kafka-0.kafka:9093', 'kafka-1.kafka:9093'],
  'registry.urls': ['https://registry-a:8443/apis/ccompat/v7', 'https://registry-b:8443/apis/ccompat/v7'],
  'experiments.challengers': ['mlp:shadow:fraud-mlp@1:0.5', 'forest:canary:fraud-forest@2:0.1'],
  'log.redact': ['card_number', 'iban'],
};
function sampleOf(setting: Setting): unknown {
  const path = setting.path.join('.');
  if (path in SAMPLES) return SAMPLES[path];
  if (setting.choices) return setting.choices.at(-1);
  switch (setting.type) {
    case 'string[]':
      return [`${path}-a`, `${path}-b`];
    case 'integer':
      // Large enough that Helm's float64 values would print it as 1.048576e+06 if the chart let them.
      return 1_048_576;
    case 'number':
      return 0.25;
    case 'boolean':
      return !setting.defaultValue;
    default:
      return `sample-${path.replace('.', '-')}`;
  }
}
const envText = (value: unknown) => (Array.isArray(value) ? value.join(',') : String(value));

const everySettingValues: Record<string, Record<string, unknown>> = {};
for (const setting of settings.filter((candidate) => !candidate.secret)) {
  const [section, key] = setting.path;
  everySettingValues[section] ??= {};
  everySettingValues[section][key] = sampleOf(setting);
}

const cases = {
  everySetting: valuesFile('every-setting', {
    config: everySettingValues,
    // The SASL mechanism sampled needs its password from a Secret.
    kafka: { sasl: { existingSecret: 'kafka-user' } },
  }),
  misspeltField: valuesFile('misspelt-field', { podSecurityContext: { runAsNonRot: true } }),
  misspeltValue: valuesFile('misspelt-value', { replicaCout: 2 }),
  misspeltSetting: valuesFile('misspelt-setting', { config: { input: { topik: 'x' } } }),
  secretInConfig: valuesFile('secret-in-config', { config: { kafka: { saslPassword: 'hunter2' } } }),
  settingTwice: valuesFile('setting-twice', {
    config: { kafka: { ssl: true, sslCaFile: '/etc/ca.pem' } },
    kafka: { tls: { existingSecret: 'kafka-ca' } },
  }),
  saslWithoutSecret: valuesFile('sasl-without-secret', {
    config: { kafka: { saslMechanism: 'plain', saslUsername: 'scoring' } },
  }),
  tlsSecretWithoutSsl: valuesFile('tls-without-ssl', { kafka: { tls: { existingSecret: 'kafka-ca' } } }),
  kedaMinAboveMax: valuesFile('keda-min-above-max', {
    keda: { enabled: true, partitions: 2, minReplicaCount: 3 },
  }),
};
const failing = [
  cases.misspeltField,
  cases.misspeltValue,
  cases.misspeltSetting,
  cases.secretInConfig,
  cases.settingTwice,
  cases.saslWithoutSecret,
  cases.tlsSecretWithoutSsl,
  cases.kedaMinAboveMax,
];

/** A copy of the chart with one edit to a template, which must still be found to be wrong. */
function brokenChart(name: string, template: string, from: string, to: string): string {
  const copy = join(work, name);
  cpSync(CHART_DIR, copy, { recursive: true });
  const file = join(copy, 'templates', template);
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${template} has no ${from} to break`);
  writeFileSync(file, text.replace(from, to));
  return copy;
}

let report: HelmcheckReport;
let brokenContainerPort: HelmcheckReport;
let brokenKedaMetadata: HelmcheckReport;
/** The cases that must pass: the chart's own values, each ci/ file, and every setting set. */
let passing: CheckedCase[];

beforeAll(() => {
  report = helmcheck(
    CHART_DIR,
    [...ciFiles, cases.everySetting, ...failing].map((file) => [file]),
  );
  brokenContainerPort = helmcheck(
    brokenChart('containerPort', 'deployment.yaml', 'containerPort:', 'containerPrt:'),
  );
  brokenKedaMetadata = helmcheck(brokenChart('kedaMetadata', 'keda.yaml', 'lagThreshold:', 'lagTreshold:'), [
    [ciFile('keda-plaintext-values.yaml')],
  ]);
  passing = [
    caseOf(report),
    ...ciFiles.map((file) => caseOf(report, [file])),
    caseOf(report, [cases.everySetting]),
  ];
  // Cold, this builds scripts/helmcheck first (minutes); CI builds it in the background, and this waits for it.
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const deploymentOf = (checked: CheckedCase) => objectOf<Deployment>(checked, 'Deployment');
const configMapOf = (checked: CheckedCase) => objectOf<ConfigMap>(checked, 'ConfigMap');

/** The Secret or ConfigMap key the Deployment mounts at `file`, if it mounts one there. */
function mountedAt(deployment: Deployment, file: string): { name: string; key: string } | undefined {
  const pod = deployment.spec.template.spec;
  for (const mount of pod.containers[0]!.volumeMounts) {
    if (!file.startsWith(`${mount.mountPath}/`)) continue;
    const relative = file.slice(mount.mountPath.length + 1);
    const volume = pod.volumes.find((candidate) => candidate.name === mount.name);
    for (const source of volume?.projected?.sources ?? []) {
      const from = source.secret ?? source.configMap;
      const item = from?.items.find((candidate) => candidate.path === relative);
      if (from && item) return { name: from.name, key: item.key };
    }
  }
  return undefined;
}

describe('the Helm chart', () => {
  it('passes helm lint --strict with its own values and with each ci/ overrides file', () => {
    expect(ciFiles.length).toBeGreaterThanOrEqual(6);
    for (const checked of passing) {
      const problems = checked.lint.messages.filter((message) => message.severity !== 'INFO');
      expect(problems, checked.name).toEqual([]);
      expect(checked.lint.ok, checked.name).toBe(true);
    }
  });

  it('renders each into objects that decode strictly into their API types', () => {
    const kindsOf = (file?: string) =>
      caseOf(report, file ? [ciFile(file)] : []).render.objects.map((o) => o.kind);
    for (const checked of passing) {
      expect(checked.render.error, checked.name).toBeUndefined();
      for (const object of checked.render.objects) {
        expect(object.error, `${checked.name}: ${object.kind} ${object.name}`).toBeUndefined();
        expect(object.type, `${checked.name}: ${object.kind}`).not.toBe('');
      }
      expect(checked.ok, checked.name).toBe(true);
    }
    expect(kindsOf().toSorted()).toEqual(
      ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount'].toSorted(),
    );
    expect(kindsOf('keda-values.yaml')).toEqual(
      expect.arrayContaining(['ScaledObject', 'TriggerAuthentication']),
    );
    expect(kindsOf('keda-plaintext-values.yaml')).toContain('ScaledObject');
    expect(kindsOf('keda-plaintext-values.yaml')).not.toContain('TriggerAuthentication');
    expect(kindsOf('servicemonitor-values.yaml')).toContain('ServiceMonitor');
    expect(kindsOf('pvc-models-values.yaml')).toContain('PersistentVolumeClaim');
    expect(
      objectOf<{ spec: object }>(caseOf(report, [ciFile('pvc-models-values.yaml')]), 'PersistentVolumeClaim'),
    ).toBeDefined();
  });

  it('catches a misspelt field in a values override', () => {
    const misspelt = caseOf(report, [cases.misspeltField]);
    expect(misspelt.ok).toBe(false);
    const deployment = misspelt.render.objects.find((object) => object.kind === 'Deployment');
    expect(deployment?.error).toMatch(/unknown field "spec\.template\.spec\.securityContext\.runAsNonRot"/);

    // A value the chart does not have, or a setting the service does not have: refused by values.schema.json
    // at lint and at install, instead of being ignored.
    for (const file of [cases.misspeltValue, cases.misspeltSetting, cases.secretInConfig]) {
      const checked = caseOf(report, [file]);
      expect(checked.lint.ok, file).toBe(false);
      expect(checked.render.error, file).toMatch(/schema/);
    }
    expect(caseOf(report, [cases.misspeltValue]).render.error).toContain('replicaCout');
    expect(caseOf(report, [cases.misspeltSetting]).render.error).toContain('topik');
    expect(caseOf(report, [cases.secretInConfig]).render.error).toContain('saslPassword');
  });

  it('catches a misspelt field in a template, in a built-in kind and in a KEDA trigger', () => {
    expect(brokenContainerPort.ok).toBe(false);
    const deployment = caseOf(brokenContainerPort).render.objects.find(
      (object) => object.kind === 'Deployment',
    );
    expect(deployment?.error).toMatch(/unknown field ".*containerPrt"/);

    expect(caseOf(brokenKedaMetadata).ok).toBe(true); // KEDA is off by default: nothing renders the typo
    const keda = caseOf(brokenKedaMetadata, [ciFile('keda-plaintext-values.yaml')]);
    expect(keda.ok).toBe(false);
    const scaledObject = keda.render.objects.find((object) => object.kind === 'ScaledObject');
    expect(scaledObject?.error).toMatch(/kafka scaler.*unknown field "lagTreshold"/);
  });

  it('refuses a setting given twice, and SASL or TLS half configured, naming what to change', () => {
    const errorOf = (file: string) => caseOf(report, [file]).render.error ?? '';
    expect(errorOf(cases.settingTwice)).toMatch(/config\.kafka\.sslCaFile is set.*Secret "kafka-ca"/);
    expect(errorOf(cases.saslWithoutSecret)).toMatch(/kafka\.sasl\.existingSecret is empty/);
    expect(errorOf(cases.tlsSecretWithoutSsl)).toMatch(/config\.kafka\.ssl is not true/);
    expect(errorOf(cases.kedaMinAboveMax)).toMatch(
      /keda\.minReplicaCount \(3\) is above keda\.maxReplicaCount \(2\)/,
    );
  });

  it('probes routes the admin server serves, on its port', () => {
    const health = healthRoutes(trackReadiness(1_000, () => true));
    const served = health.routes.map((route) => route.path);
    health.close();
    for (const checked of passing) {
      const [container] = deploymentOf(checked).spec.template.spec.containers;
      const port = Number(configMapOf(checked).data.STREAMSCORE_ADMIN_PORT);
      const admin = container!.ports.find((candidate) => candidate.name === 'admin');
      expect(admin?.containerPort, checked.name).toBe(port);
      const https = 'STREAMSCORE_ADMIN_TLS_CERT_FILE' in configMapOf(checked).data;
      for (const probe of [container!.startupProbe, container!.livenessProbe, container!.readinessProbe]) {
        expect(served).toContain(probe.httpGet.path);
        expect(probe.httpGet.port).toBe('admin');
        expect(probe.httpGet.scheme, checked.name).toBe(https ? 'HTTPS' : 'HTTP');
      }
      expect(container!.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container!.readinessProbe.httpGet.path).toBe('/readyz');
    }
    // With the chart's own values, on the service's own default port.
    expect(Number(configMapOf(caseOf(report)).data.STREAMSCORE_ADMIN_PORT)).toBe(defaults.admin.port);
  });

  it('gives the process longer than its own shutdown deadline before SIGKILL', () => {
    for (const checked of passing) {
      const grace = deploymentOf(checked).spec.template.spec.terminationGracePeriodSeconds;
      const deadline = Number(configMapOf(checked).data.STREAMSCORE_SHUTDOWN_TIMEOUT_MS);
      expect(grace * 1000, checked.name).toBeGreaterThan(deadline);
    }
    expect(Number(configMapOf(caseOf(report)).data.STREAMSCORE_SHUTDOWN_TIMEOUT_MS)).toBe(
      defaults.shutdown.timeoutMs,
    );
  });

  it('points scrape annotations and the ServiceMonitor at /metrics on the admin port', () => {
    const pod = deploymentOf(caseOf(report)).spec.template;
    expect(pod.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(defaults.admin.port),
      'prometheus.io/path': '/metrics',
    });
    const checked = caseOf(report, [ciFile('servicemonitor-values.yaml')]);
    const monitor = objectOf<{ spec: { endpoints: { port: string; path: string; scheme: string }[] } }>(
      checked,
      'ServiceMonitor',
    );
    expect(monitor.spec.endpoints).toEqual([
      expect.objectContaining({ port: 'admin', path: '/metrics', scheme: 'https' }),
    ]);
    const service = objectOf<{ spec: { ports: { name: string; targetPort: string }[] } }>(checked, 'Service');
    expect(service.spec.ports).toEqual([expect.objectContaining({ name: 'admin', targetPort: 'admin' })]);
  });

  it('sets only STREAMSCORE_* variables the service reads, and a secret only as the file holding it', () => {
    const known = new Set([
      ...settings.map((setting) => setting.env),
      ...secretSettings.map((setting) => `${setting.env}${FILE_SUFFIX}`),
    ]);
    for (const checked of passing) {
      const names = Object.keys(configMapOf(checked).data);
      expect(
        names.filter((name) => !known.has(name)),
        checked.name,
      ).toEqual([]);
      for (const setting of secretSettings) expect(names, checked.name).not.toContain(setting.env);
      const deployment = deploymentOf(checked);
      // Every secret's file variable names a file the pod mounts from a Secret.
      const fileVariables = new Set(secretSettings.map((setting) => `${setting.env}${FILE_SUFFIX}`));
      for (const name of names.filter((candidate) => fileVariables.has(candidate))) {
        expect(
          mountedAt(deployment, configMapOf(checked).data[name]!),
          `${checked.name}: ${name}`,
        ).toBeDefined();
      }
      expect(deployment.spec.template.spec.containers[0]!.envFrom).toEqual([
        { configMapRef: { name: configMapOf(checked).metadata.name } },
      ]);
    }
  });

  it('renders a configuration the service accepts, each time', () => {
    for (const checked of passing) {
      const env: NodeJS.ProcessEnv = { ...configMapOf(checked).data };
      for (const [name, value] of Object.entries(env)) {
        if (!name.endsWith(FILE_SUFFIX)) continue;
        // The mounted Secret's content, which only the cluster has.
        const file = join(work, `${checked.name.replace(/\W/g, '_')}-${name}`);
        writeFileSync(file, `value of ${value}\n`);
        env[name] = file;
      }
      expect(() => loadConfig({ env }), checked.name).not.toThrow();
    }
  });

  it('reaches every setting from values', () => {
    const data = configMapOf(caseOf(report, [cases.everySetting])).data;
    for (const setting of settings.filter((candidate) => !candidate.secret)) {
      expect(data[setting.env], setting.env).toBe(envText(sampleOf(setting)));
    }
    // The secret ones as files from Secrets, in one case or another.
    const fromSecrets = new Set<string>();
    for (const checked of passing) {
      const files = configMapOf(checked).data;
      for (const setting of secretSettings) {
        const file = files[`${setting.env}${FILE_SUFFIX}`];
        if (file && mountedAt(deploymentOf(checked), file)) fromSecrets.add(setting.env);
      }
    }
    expect([...fromSecrets].toSorted()).toEqual(secretSettings.map((setting) => setting.env).toSorted());
  });

  it('mounts each Secret the values name, under the key they name', () => {
    const checked = caseOf(report, [ciFile('sasl-tls-values.yaml')]);
    const data = configMapOf(checked).data;
    const deployment = deploymentOf(checked);
    expect(mountedAt(deployment, data.STREAMSCORE_KAFKA_SASL_PASSWORD_FILE!)).toEqual({
      name: 'kafka-scoring-user',
      key: 'password',
    });
    expect(mountedAt(deployment, data.STREAMSCORE_KAFKA_SSL_KEY_FILE!)).toEqual({
      name: 'kafka-scoring-tls',
      key: 'tls.key',
    });
    expect(mountedAt(deployment, data.STREAMSCORE_REGISTRY_PASSWORD_FILE!)).toEqual({
      name: 'registry-scoring-user',
      key: 'password',
    });
    expect(mountedAt(deployment, data.STREAMSCORE_ADMIN_TOKEN_FILE!)).toEqual({
      name: 'streamscore-admin',
      key: 'token',
    });
    expect(mountedAt(deployment, data.STREAMSCORE_ADMIN_TLS_CLIENT_CA_FILE!)).toEqual({
      name: 'streamscore-admin-tls',
      key: 'ca.crt',
    });
    // With no existing Secret, the chart makes the admin token's.
    const own = caseOf(report);
    const [secret] = objectsOf<{ metadata: { name: string }; data: Record<string, string> }>(own, 'Secret');
    expect(mountedAt(deploymentOf(own), configMapOf(own).data.STREAMSCORE_ADMIN_TOKEN_FILE!)).toEqual({
      name: secret!.metadata.name,
      key: 'token',
    });
    expect(Buffer.from(secret!.data.token!, 'base64').toString()).toMatch(/^[A-Za-z0-9]{40}$/);
  });

  it('says so when the admin API must refuse every change', () => {
    const withoutToken = caseOf(report, [ciFile('image-volume-values.yaml')]);
    expect(configMapOf(withoutToken).data).not.toHaveProperty('STREAMSCORE_ADMIN_TOKEN_FILE');
    expect(withoutToken.render.notes).toMatch(/every change\s+through the admin API .* is REFUSED/);
    expect(caseOf(report).render.notes).not.toMatch(/REFUSED/);
  });

  it('runs as non-root on a read-only root filesystem with a writable /tmp, without an API token', () => {
    for (const checked of passing) {
      const pod = deploymentOf(checked).spec.template.spec;
      const [container] = pod.containers;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).not.toBe(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(container!.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
      const tmp = container!.volumeMounts.find((mount) => mount.mountPath === '/tmp');
      expect(pod.volumes.find((volume) => volume.name === tmp?.name)?.emptyDir, checked.name).toBeDefined();
    }
  });

  it('mounts the model repository read-only from a volume and points the service at it', () => {
    for (const [file, volume] of [
      ['pvc-models-values.yaml', 'persistentVolumeClaim'],
      ['image-volume-values.yaml', 'image'],
    ] as const) {
      const checked = caseOf(report, [ciFile(file)]);
      const pod = deploymentOf(checked).spec.template.spec;
      const repository = configMapOf(checked).data.STREAMSCORE_MODEL_REPOSITORY;
      const mount = pod.containers[0]!.volumeMounts.find((candidate) => candidate.mountPath === repository);
      expect(mount?.readOnly, file).toBe(true);
      expect(pod.volumes.find((candidate) => candidate.name === mount?.name)?.[volume], file).toBeDefined();
    }
    // A spread constraint given without a selector gets the chart's own.
    const spread = deploymentOf(caseOf(report, [ciFile('pvc-models-values.yaml')])).spec.template
      .spec as unknown as {
      topologySpreadConstraints: { labelSelector: { matchLabels: Record<string, string> } }[];
    };
    expect(spread.topologySpreadConstraints[0]?.labelSelector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'streamscore',
      'app.kubernetes.io/instance': 'streamscore',
    });
    // The image's own repository needs neither.
    expect(configMapOf(caseOf(report)).data).not.toHaveProperty('STREAMSCORE_MODEL_REPOSITORY');
  });

  it('scales on the input topic lag with KEDA, with the credentials the pods use', () => {
    const plain = caseOf(report, [ciFile('keda-plaintext-values.yaml')]);
    expect(deploymentOf(plain).spec.replicas).toBeUndefined(); // KEDA's HPA owns the count
    expect(deploymentOf(caseOf(report)).spec.replicas).toBe(3);
    expect(objectOf<ScaledObject>(plain, 'ScaledObject').spec).toMatchObject({
      minReplicaCount: 2,
      maxReplicaCount: 4,
    });

    const secure = caseOf(report, [ciFile('keda-values.yaml')]);
    const data = configMapOf(secure).data;
    const scaled = objectOf<ScaledObject>(secure, 'ScaledObject');
    // maxReplicaCount defaults to the partition count, minReplicaCount to 1.
    expect(scaled.spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 12 });
    expect(scaled.spec.scaleTargetRef.name).toBe(
      objectOf<{ metadata: { name: string } }>(secure, 'Deployment').metadata.name,
    );
    const [trigger] = scaled.spec.triggers;
    expect(trigger).toMatchObject({
      type: 'kafka',
      metadata: {
        bootstrapServers: data.STREAMSCORE_KAFKA_BROKERS,
        consumerGroup: data.STREAMSCORE_INPUT_GROUP_ID,
        topic: data.STREAMSCORE_INPUT_TOPIC,
        lagThreshold: '5000',
        activationLagThreshold: '10',
        offsetResetPolicy: 'latest', // config.input.fromBeginning: false
        excludePersistentLag: 'true',
        sasl: 'scram_sha256',
        tls: 'enable',
      },
    });
    const auth = objectOf<TriggerAuthentication>(secure, 'TriggerAuthentication');
    expect(trigger!.authenticationRef?.name).toBe(auth.metadata.name);
    const deployment = deploymentOf(secure);
    const password = auth.spec.secretTargetRef?.find((ref) => ref.parameter === 'password');
    expect(mountedAt(deployment, data.STREAMSCORE_KAFKA_SASL_PASSWORD_FILE!)).toEqual({
      name: password?.name,
      key: password?.key,
    });
    const ca = auth.spec.secretTargetRef?.find((ref) => ref.parameter === 'ca');
    expect(mountedAt(deployment, data.STREAMSCORE_KAFKA_SSL_CA_FILE!)).toEqual({
      name: ca?.name,
      key: ca?.key,
    });
    const username = auth.spec.configMapTargetRef?.find((ref) => ref.parameter === 'username');
    expect(username?.name).toBe(configMapOf(secure).metadata.name);
    expect(data[username!.key]).toBe('scoring');
  });
});
