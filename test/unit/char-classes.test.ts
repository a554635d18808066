/**
 * The tokeniser's table of character classes is committed (src/analysis/char-classes.ts) rather
 * than computed at every start from the engine's Unicode data, which took 15-50 ms in each
 * thread. This keeps the two equal: on a mismatch, `vitest run -u` writes the file again from
 * the computed table, and the difference is a change of tokens (ANALYZER_VERSION).
 */
import { describe, expect, it } from 'vitest';
import { CLASS_RUNS } from '../../src/analysis/char-classes.js';
import { computeClassTable, decodeClassRuns } from '../../src/analysis/tokenizer.js';

/** The module text for a table: runs of one class, 96 characters of them per line. */
function render(table: Uint8Array): string {
  const runs: string[] = [];
  let start = 0;
  for (let c = 1; c <= table.length; c++) {
    if (c === table.length || table[c] !== table[start]) {
      runs.push(String.fromCharCode(65 + table[start]!) + (c - start).toString(36));
      start = c;
    }
  }
  const lines: string[] = [];
  let line = '';
  for (const run of runs) {
    if (line.length + run.length > 88) {
      lines.push(line);
      line = '';
    }
    line += run;
  }
  if (line !== '') lines.push(line);
  return [
    '/**',
    " * The tokeniser's class of every BMP code unit (tokenizer.ts: `OTHER` = A, `SPACE` = B, ...), as",
    ' * runs: the class, then the run length in base 36. Written by test/unit/char-classes.test.ts',
    " * from the engine's Unicode data (`computeClassTable`); do not edit.",
    ' */',
    'export const CLASS_RUNS: readonly string[] = [',
    ...lines.map((l) => `  '${l}',`),
    '];',
    '',
  ].join('\n');
}

describe('character classes', () => {
  it('are the committed table, equal to the one computed from Unicode', async () => {
    const computed = computeClassTable();
    await expect(render(computed)).toMatchFileSnapshot('../../src/analysis/char-classes.ts');
    expect(Buffer.from(decodeClassRuns(CLASS_RUNS)).equals(Buffer.from(computed))).toBe(true);
  });

  it('refuses runs that do not cover the BMP exactly', () => {
    expect(() => decodeClassRuns(['A35s'])).toThrow(/cover 4096 code units/);
    expect(() => decodeClassRuns(['A1ekg', 'B1'])).toThrow(/cover 65537 code units/);
  });
});
