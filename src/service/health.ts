/**
 * Liveness and readiness for Kubernetes probes. Liveness never looks at Kafka (a broker outage must not
 * restart every pod): the process answers and its event loop is not stuck. Readiness says whether this
 * process is doing its job: a model serving, joined to the group, not retrying a failing publish or
 * commit, and no assigned partition with records waiting that has delivered nothing for too long.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AdminRoute } from '../admin/index.js';

export interface Readiness {
  readonly ready: boolean;
  readonly reasons: string[];
  assigned(partitions: readonly number[]): void;
  /** A partition batch was delivered; `lag` records were still behind it. */
  delivered(partition: number, lag: number): void;
  failing(component: string, reason: string): void;
  stopping(): void;
}

interface PartitionProgress {
  deliveredAt: number;
  lag: number;
}

export function trackReadiness(stallTimeoutMs: number, modelServing: () => boolean): Readiness {
  let joined = false;
  let stopping = false;
  const failures = new Map<string, string>();
  const progress = new Map<number, PartitionProgress>();

  const stalled = () => {
    const now = Date.now();
    return [...progress]
      .filter(([, { deliveredAt, lag }]) => lag > 0 && now - deliveredAt > stallTimeoutMs)
      .map(([partition]) => partition);
  };

  const reasons = () => {
    const stuck = stalled();
    return [
      ...(modelServing() ? [] : ['no model version serving']),
      ...(joined ? [] : ['not joined to the consumer group yet']),
      ...(stopping ? ['stopping'] : []),
      ...[...failures].map(([component, reason]) => `${component}: ${reason}`),
      ...(stuck.length > 0
        ? [`partitions ${stuck.join(', ')} delivered nothing for ${stallTimeoutMs} ms with records waiting`]
        : []),
    ];
  };

  return {
    get ready() {
      return reasons().length === 0;
    },
    get reasons() {
      return reasons();
    },
    assigned(partitions) {
      joined = true;
      failures.delete('consumer');
      const now = Date.now();
      const owned = new Set(partitions);
      for (const partition of progress.keys()) if (!owned.has(partition)) progress.delete(partition);
      for (const partition of partitions)
        if (!progress.has(partition)) progress.set(partition, { deliveredAt: now, lag: 0 });
    },
    delivered(partition, lag) {
      failures.clear();
      progress.set(partition, { deliveredAt: Date.now(), lag });
    },
    failing(component, reason) {
      failures.set(component, reason);
    },
    stopping() {
      stopping = true;
    },
  };
}

// Liveness fails only when the event loop was blocked for longer than any batch could justify.
const EVENT_LOOP_STUCK_MS = 5_000;

export interface HealthRoutes {
  routes: AdminRoute[];
  close(): void;
}

export function healthRoutes(readiness: Readiness): HealthRoutes {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const live: AdminRoute['handle'] = () => {
    const maxDelayMs = delay.max / 1e6;
    delay.reset();
    const alive = maxDelayMs < EVENT_LOOP_STUCK_MS;
    return { status: alive ? 200 : 503, body: { alive, eventLoopMaxDelayMs: Math.round(maxDelayMs) } };
  };
  const ready: AdminRoute['handle'] = () => ({
    status: readiness.ready ? 200 : 503,
    body: { ready: readiness.ready, reasons: readiness.reasons },
  });
  // The Kubernetes names, and the Open Inference Protocol's for tools that probe KServe-style servers.
  const routes: AdminRoute[] = [
    { method: 'GET', path: '/healthz', handle: live },
    { method: 'GET', path: '/v2/health/live', handle: live },
    { method: 'GET', path: '/readyz', handle: ready },
    { method: 'GET', path: '/v2/health/ready', handle: ready },
  ];
  return { routes, close: () => delay.disable() };
}
