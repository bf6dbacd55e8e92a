export { compileFeatureExtractor, type DecodedRecord, type FeatureExtractor } from './extractor.js';
export {
  allocateFeatureRows,
  elementTypeOf,
  type FeatureElementType,
  type FeatureRows,
} from './rows.js';
