export {
  createRegistryClient,
  type RegisteredSchema,
  type RegistryClient,
  type RegistrySettings,
} from './client.js';
