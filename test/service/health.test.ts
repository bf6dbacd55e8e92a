import { afterEach, describe, expect, it, vi } from 'vitest';
import { healthRoutes, trackReadiness } from '../../src/service/health.js';

describe('readiness', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is not ready until a model serves and the group is joined', () => {
    let serving = false;
    const readiness = trackReadiness(60_000, () => serving);
    expect(readiness.reasons).toEqual(['no model version serving', 'not joined to the consumer group yet']);
    serving = true;
    readiness.assigned([0, 1]);
    expect(readiness.ready).toBe(true);
  });

  it('reports a failing component until the next delivery or rejoin clears it', () => {
    const readiness = trackReadiness(60_000, () => true);
    readiness.assigned([0]);
    readiness.failing('consumer', 'Connection error: connect ECONNREFUSED');
    expect(readiness.reasons).toEqual(['consumer: Connection error: connect ECONNREFUSED']);
    readiness.assigned([0]);
    expect(readiness.ready).toBe(true);
    readiness.failing('delivery', 'broker not available');
    readiness.delivered(0, 0);
    expect(readiness.ready).toBe(true);
  });

  it('calls a partition stalled only when records wait and nothing was delivered for the limit', () => {
    vi.useFakeTimers();
    const readiness = trackReadiness(1_000, () => true);
    readiness.assigned([0, 1]);
    readiness.delivered(0, 50);
    readiness.delivered(1, 0);
    vi.advanceTimersByTime(1_001);
    expect(readiness.reasons).toEqual(['partitions 0 delivered nothing for 1000 ms with records waiting']);
    readiness.delivered(0, 10);
    expect(readiness.ready).toBe(true);
    readiness.assigned([1]);
    vi.advanceTimersByTime(1_001);
    expect(readiness.ready).toBe(true);
  });

  it('is not ready once stopping', () => {
    const readiness = trackReadiness(60_000, () => true);
    readiness.assigned([0]);
    readiness.stopping();
    expect(readiness.reasons).toEqual(['stopping']);
  });
});

describe('health routes', () => {
  it('answers liveness and readiness under the Kubernetes and the Open Inference Protocol paths', async () => {
    const readiness = trackReadiness(60_000, () => true);
    const health = healthRoutes(readiness);
    try {
      const handle = async (path: string) =>
        health.routes.find((route) => route.path === path)!.handle({}, undefined, 'test');
      expect(await handle('/readyz')).toEqual({
        status: 503,
        body: { ready: false, reasons: ['not joined to the consumer group yet'] },
      });
      expect(await handle('/v2/health/ready')).toEqual(await handle('/readyz'));
      readiness.assigned([0]);
      expect(await handle('/v2/health/ready')).toEqual({ status: 200, body: { ready: true, reasons: [] } });
      expect((await handle('/healthz')).status).toBe(200);
      expect((await handle('/v2/health/live')).status).toBe(200);
    } finally {
      health.close();
    }
  });
});
