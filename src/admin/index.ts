export { metricsRoute } from './metrics.js';
export { type ModelGroundTruth, type MonitoringSummary, modelRoutes } from './models.js';
export { type AdminResponse, type AdminRoute, type AdminServer, startAdminServer } from './server.js';
