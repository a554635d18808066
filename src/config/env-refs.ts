/**
 * `${VAR}` references are kept as written in the loaded config and resolved by whoever uses the
 * value, so a run never fails for a variable it does not need (`run --source … --redis …` works
 * with the shipped config and an empty environment). Messages name the field and the variable,
 * never a value: values are usually credentials.
 */
import { ConfigError } from './errors.js';
import { hasRefs, refSyntaxProblem, scanRefs } from './ref-syntax.js';
import { envVarName, leafAt } from './schema.js';

export { hasRefs } from './ref-syntax.js';

/**
 * Replaces every `${NAME}` in `value` with the variable's value and every `$${` with `${`.
 * `path` names the field in errors, as in `redis.url: environment variable REDIS_URL is not set`.
 * A variable set to the empty string counts as set.
 */
export function resolveRef(
  value: string,
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const syntax = refSyntaxProblem(value);
  if (syntax !== null) throw new ConfigError(`${path}: ${syntax}`);
  const missing: string[] = [];
  let out = '';
  let last = 0;
  for (const token of scanRefs(value)) {
    out += value.slice(last, token.index);
    if (token.kind === 'escape') {
      out += '${';
      last = token.index + 3;
    } else if (token.kind === 'ref') {
      const resolved = env[token.name];
      if (resolved === undefined) missing.push(token.name);
      else out += resolved;
      last = token.index + token.length;
    }
  }
  if (missing.length > 0) {
    throw new ConfigError(
      [...new Set(missing)].map((name) => `${path}: environment variable ${name} is not set`),
    );
  }
  return out + value.slice(last);
}

/**
 * Checks a value after its references were resolved, with the constraints its key has in the
 * schema (`path` may end in `[i]` for a list item). Returns the value, for chaining:
 * `validateResolved('redis.url', resolveRef(config.redis.url, 'redis.url'))`.
 */
export function validateResolved(path: string, value: string): string {
  const key = path.replace(/\[\d+\]$/, '');
  const entry = leafAt(key);
  if (entry === undefined) throw new Error(`validateResolved: ${key} is not a configuration key`);
  if (hasRefs(value)) throw new ConfigError(`${path}: holds an unresolved \${VAR} reference`);
  if (entry.leaf.requiredWhenUsed && value === '') {
    throw new ConfigError(
      `${path}: is not set; give it in the configuration file, in ${envVarName(key)} or on the command line`,
    );
  }
  const problem = entry.leaf.checkResolved(value);
  if (problem !== null) throw new ConfigError(`${path}: ${problem}`);
  return value;
}

/** `resolveRef` then `validateResolved`: what a user of a reference-holding key normally wants. */
export function resolveChecked(
  value: string,
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return validateResolved(path, resolveRef(value, path, env));
}
