export { metricsRoute } from './metrics.js';
export { type ModelGroundTruth, type MonitoringSummary, modelRoutes } from './models.js';
export {
  type AdminFallback,
  type AdminRequest,
  type AdminResponse,
  type AdminRoute,
  type AdminServer,
  dispatch,
  startAdminServer,
} from './server.js';
