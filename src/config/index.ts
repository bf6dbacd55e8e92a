export { configHelp, configMarkdown } from './help.js';
export { type LoadOptions, loadConfig } from './load.js';
export { packagePath } from './package-path.js';
export type { Config, ConfigInput } from './schema.js';
export { type Setting, settings } from './settings.js';
