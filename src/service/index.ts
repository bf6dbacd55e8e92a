export { type InputReaders, openInputReaders, openRegistry, outputSchemaId, subjectFor } from './codecs.js';
export { type RunningService, type ServiceOptions, startService } from './service.js';
