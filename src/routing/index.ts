export { DeadLetterHeaders, type RecordOrigin, toDeadLetter } from './dead-letters.js';
export { type Prediction, type PredictionContext, type ScoredEvent, toPrediction } from './predictions.js';
