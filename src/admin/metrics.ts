import type { AdminRoute } from './server.js';

/** GET /metrics: the Prometheus text exposition, or 404 where this process collects no metrics. */
export function metricsRoute(scrape: () => Promise<string | undefined>): AdminRoute {
  return {
    method: 'GET',
    path: '/metrics',
    handle: async () => {
      const text = await scrape();
      return text === undefined
        ? { status: 404, body: { error: 'metrics are not collected in this process' } }
        : { status: 200, body: text, contentType: 'text/plain; version=0.0.4; charset=utf-8' };
    },
  };
}
