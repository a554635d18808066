import { describe, expect, it } from 'vitest';
import { progressWanted } from '../../src/ops/progress.js';

const stream = (props: Partial<NodeJS.WriteStream>): NodeJS.WriteStream =>
  props as NodeJS.WriteStream;

describe('progressWanted', () => {
  it('shows the spinner only on a terminal with a width, outside CI', () => {
    expect(progressWanted(stream({ isTTY: true, columns: 80 }), {})).toBe(true);
    expect(progressWanted(stream({ isTTY: false, columns: 80 }), {})).toBe(false);
    expect(progressWanted(stream({ isTTY: true, columns: 0 }), {})).toBe(false);
    expect(progressWanted(stream({ isTTY: true, columns: 80 }), { CI: 'true' })).toBe(false);
    expect(progressWanted(stream({ isTTY: true, columns: 80 }), { TERM: 'dumb' })).toBe(false);
  });
});
