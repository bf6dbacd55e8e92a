/** The records of the monitoring topic (schemas/monitoring-event.avsc), one kind each. */
import type { DriftMonitoringEvent } from './drift-event.js';
import type { GroundTruthMonitoringEvent } from './ground-truth.js';
import type { RetrainMonitoringEvent } from './retrain.js';

export type MonitoringEvent = DriftMonitoringEvent | GroundTruthMonitoringEvent | RetrainMonitoringEvent;
