import { describe, expect, it, vi } from 'vitest';
import { createProgress, progressWanted } from '../../src/ops/progress.js';

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

describe('createProgress', () => {
  it('loads the spinner only when wanted, and reports on stderr when it is', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const off = await createProgress(false);
      off.phase('analyze');
      off.stop(true, 'quietly done');
      const on = await createProgress(true);
      on.phase('analyze');
      on.total(10);
      on.documents(5);
      on.stop(false, 'loudly failed');
    } finally {
      spy.mockRestore();
    }
    const text = written.join('');
    expect(text).not.toContain('quietly done');
    expect(text).toContain('loudly failed');
  });
});
