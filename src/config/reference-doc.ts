// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration's reference syntax, not a mistyped template.
/**
 * Renders docs/configuration.md from the schema, so the reference cannot drift from the code
 * (a unit test compares the committed file with this output).
 */
import type { Leaf, SchemaNode } from './leaves.js';
import { CONFIG_FILE_ENV, ENV_PREFIX, leafEntries, rootNodes } from './schema.js';

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const code = (text: string) => `\`${text}\``;

function defaultText(leaf: Leaf): string {
  const value = leaf.default;
  if (value === null) return code('null');
  if (value === '') return '(empty)';
  if (Array.isArray(value)) return code(JSON.stringify(value));
  return code(String(value));
}

function table(paths: readonly string[]): string[] {
  const rows = [
    '| Key | Type | Default | Environment variable | `${VAR}` | Description |',
    '|---|---|---|---|---|---|',
  ];
  for (const entry of leafEntries.filter((e) => paths.includes(e.path))) {
    const { leaf } = entry;
    rows.push(
      `| ${[
        code(entry.path),
        leaf.type,
        defaultText(leaf),
        code(entry.env),
        leaf.refs ? 'yes' : '',
        leaf.description,
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  }
  return rows;
}

function nestedGroups(node: SchemaNode, path: string): string[] {
  if (node.kind !== 'group') return [];
  return Object.entries(node.children).flatMap(([key, child]) =>
    child.kind === 'group'
      ? [
          `- ${code(`${path}.${key}`)}: ${child.description}`,
          ...nestedGroups(child, `${path}.${key}`),
        ]
      : [],
  );
}

export function renderConfigReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by renderConfigReference(); do not edit by hand.',
    '     Regenerate with: npx vitest run test/unit/config.test.ts -u -->',
    '',
    'The job reads `config/batch_jobs.yaml` from the package, or the file named by `--config` or by',
    `\`${CONFIG_FILE_ENV}\`. Flags override environment variables, which override the file, which`,
    'overrides the defaults below. Unknown keys are refused, and every problem is reported at once.',
    '',
    '## Environment variables',
    '',
    `Every key has a variable: \`${ENV_PREFIX}\` followed by the key's path with camelCase turned into`,
    'UPPER_SNAKE_CASE and dots into underscores, so `analysis.minDocumentRatio` is',
    `\`${ENV_PREFIX}ANALYSIS_MIN_DOCUMENT_RATIO\`. Numbers are parsed, lists are comma-separated, an`,
    `empty variable counts as unset, and \`null\` clears a key that may be null. An unknown`,
    `\`${ENV_PREFIX}*\` variable is an error, as a misspelt one would otherwise be ignored.`,
    '',
    '## `${VAR}` references',
    '',
    'Keys marked *yes* in the `${VAR}` column (URLs and addresses, which often carry credentials)',
    'may hold references such as `"${REDIS_URL}"` or `redis://:${REDIS_PASSWORD}@redis:6379`. They',
    'are kept as written when the file is loaded and resolved only where the value is used, so a',
    'run never fails for a variable it does not need. Names match `[A-Z_][A-Z0-9_]*`; write `$${`',
    'for a literal `${`. Other keys refuse references: use their environment variable instead.',
    '',
    '## Worker count',
    '',
    '`analysis.workers: auto` means the number of cores this process may use',
    '(`os.availableParallelism()`), decided when the configuration is loaded.',
  ];
  for (const [key, node] of Object.entries(rootNodes())) {
    lines.push('', `## ${code(key)}`, '');
    if (node.kind === 'group') lines.push(node.description, '');
    const paths = leafEntries.filter((e) => e.segments[0] === key).map((e) => e.path);
    lines.push(...table(paths));
    const nested = nestedGroups(node, key);
    if (nested.length > 0) lines.push('', ...nested);
  }
  return `${lines.join('\n')}\n`;
}
