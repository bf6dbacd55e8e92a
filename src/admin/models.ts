import type { ModelEngine } from '../inference/index.js';
import type { AdminRoute } from './server.js';

/** GET /v1/models lists what is loaded and serving; POST /v1/models/:name/rollback returns to the previous version. */
export function modelRoutes(engines: readonly ModelEngine[]): AdminRoute[] {
  const byName = new Map(engines.map((engine) => [engine.name, engine]));
  const unknown = (name: string) => ({ status: 404, body: { error: `no model named ${name}` } });
  return [
    {
      method: 'GET',
      path: '/v1/models',
      handle: () => ({ status: 200, body: engines.map((engine) => engine.status()) }),
    },
    {
      method: 'GET',
      path: '/v1/models/:name',
      handle: ({ name }) => {
        const engine = byName.get(name!);
        return engine ? { status: 200, body: engine.status() } : unknown(name!);
      },
    },
    {
      method: 'POST',
      path: '/v1/models/:name/rollback',
      handle: async ({ name }) => {
        const engine = byName.get(name!);
        return engine ? { status: 200, body: await engine.rollback() } : unknown(name!);
      },
    },
  ];
}
