export {
  ALERT_SCHEMA_PATH,
  type Alert,
  type AlertEncoder,
  type AlertedManifest,
  type AlertReason,
  type AlertSource,
  createAlertEncoder,
  loadAlertCodec,
} from './alerts.js';
export {
  type ChallengerScores,
  type ChampionScores,
  COMPARISON_SCHEMA_PATH,
  type ComparedManifest,
  type ComparedModel,
  type Comparison,
  type ComparisonEncoder,
  type ComparisonSource,
  createComparisonEncoder,
  type FlipSymbol,
  loadComparisonCodec,
  type ModelOutcome,
  SCORING_STATUS_SYMBOLS,
  ScoringStatus,
  type ScoringStatusCode,
  type ScoringStatusSymbol,
} from './comparisons.js';
export { DeadLetterHeaders, type RecordOrigin, toDeadLetter } from './dead-letters.js';
export {
  blankPrediction,
  type Prediction,
  type PredictionContext,
  type ScoredEvent,
  toPrediction,
  writePrediction,
} from './predictions.js';
