/** The configuration layer's public surface. */
export { resolveChecked, resolveRef, validateResolved } from './env-refs.js';
export { CONFIG_ERROR_EXIT_CODE, ConfigError } from './errors.js';
export {
  configFilePath,
  type LoadOptions,
  loadConfig,
  type RawOverrides,
  shippedConfigPath,
} from './load.js';
export { hasRefs } from './ref-syntax.js';
export { renderConfigReference } from './reference-doc.js';
export { CONFIG_FILE_ENV, ENV_PREFIX, envVarName, leafEntries, schema } from './schema.js';
export type * from './types.js';
