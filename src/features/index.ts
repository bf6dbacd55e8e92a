export { compileFeatureExtractor, type DecodedRecord, type FeatureExtractor } from './extractor.js';
