export { metricsRoute } from './metrics.js';
export { modelRoutes } from './models.js';
export { type AdminResponse, type AdminRoute, type AdminServer, startAdminServer } from './server.js';
