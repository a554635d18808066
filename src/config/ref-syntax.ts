/**
 * The `${NAME}` reference syntax, shared by the schema (which must recognise references to defer
 * validation) and by `env-refs.ts` (which resolves them). Kept apart so neither imports the other.
 */

/** `$${` is a literal `${`; `${NAME}` a reference; any other `${` is malformed. */
const TOKEN = /\$\$\{|\$\{([A-Z_][A-Z0-9_]*)\}|\$\{/g;

export type RefToken =
  | { readonly kind: 'escape'; readonly index: number }
  | { readonly kind: 'ref'; readonly index: number; readonly length: number; readonly name: string }
  | { readonly kind: 'malformed'; readonly index: number };

export function scanRefs(value: string): RefToken[] {
  const tokens: RefToken[] = [];
  for (const match of value.matchAll(TOKEN)) {
    const index = match.index;
    const name = match[1];
    if (match[0] === '$${') tokens.push({ kind: 'escape', index });
    else if (name !== undefined) {
      tokens.push({ kind: 'ref', index, length: match[0].length, name });
    } else tokens.push({ kind: 'malformed', index });
  }
  return tokens;
}

/** True when the value holds at least one `${NAME}` reference (escapes do not count). */
export function hasRefs(value: string): boolean {
  return scanRefs(value).some((t) => t.kind !== 'escape');
}

/**
 * Why the value's reference syntax is wrong, or null. Never quotes the surrounding value: it may
 * be a URL with credentials in it.
 */
export function refSyntaxProblem(value: string): string | null {
  const bad = scanRefs(value).find((t) => t.kind === 'malformed');
  if (bad === undefined) return null;
  const fragment = /^\$\{[^}\s]{0,40}\}?/.exec(value.slice(bad.index))?.[0] ?? '${';
  const looksLikeName = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(fragment);
  return looksLikeName
    ? `malformed reference ${fragment}: variable names must match [A-Z_][A-Z0-9_]* (write $\${ for a literal "\${")`
    : `malformed reference: "\${" must start \${NAME} (write $\${ for a literal "\${")`;
}

/** The value with every `$${` turned into `${`, for values that hold no reference. */
export function unescapeRefs(value: string): string {
  return value.replaceAll('$${', '${');
}
