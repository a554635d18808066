import { describe, expect, it } from 'vitest';
import type { DrainResult } from '../../src/analysis/protocol.js';
import { encodePlans } from '../../src/job/analysis-pool.js';

/** A drained worker with blocks of `documents` documents each, in a file unless `path` is null. */
function drained(
  workerId: string,
  documents: number[],
  path: string | null = `/state/records-${workerId}.tmp`,
): DrainResult {
  return {
    kind: 'drain',
    workerId,
    counted: documents.reduce((a, b) => a + b, 0),
    finalIds: false,
    terms: {
      slots: new Int32Array(2),
      heap: new Int32Array(0),
      top: 0,
      size: 0,
      cfHigh: new Map(),
      languageSizes: [],
      langs: [`lang-${workerId}`],
      documents: new Float64Array(1),
    },
    blocks: { path, sizes: documents.map((count) => count * 10), documents },
  };
}

describe('encodePlans', () => {
  it("gives the first worker the others' last blocks, until the work is about even", () => {
    const first = drained('a', [100, 100]);
    const other = drained(
      'b',
      Array.from({ length: 10 }, () => 100),
    );
    const plans = encodePlans([first, other]);
    // 1,000 documents to re-encode and 200 to hand on (a quarter of the work each): about 525
    // documents' worth each, so the first takes the last five blocks.
    expect(plans.get('b')).toEqual({ ownBlocks: 5, foreign: [] });
    expect(plans.get('a')).toEqual({
      ownBlocks: 2,
      foreign: [
        {
          owner: 'b',
          path: '/state/records-b.tmp',
          sizes: other.blocks.sizes,
          documents: other.blocks.documents,
          first: 5,
          end: 10,
          langs: ['lang-b'],
        },
      ],
    });
  });

  it('shares among several workers, and leaves blocks in memory with their worker', () => {
    const plans = encodePlans([
      drained('a', [300]),
      drained('b', [200, 200, 200]),
      drained('c', [200, 200, 200], null),
    ]);
    // 1,275 documents' worth, 425 each: the first takes 175 documents from each of the others,
    // which is one block of b's (its middle, 100, is within the share) and none of c's.
    expect(plans.get('b')!.ownBlocks).toBe(2);
    expect(plans.get('c')).toEqual({ ownBlocks: 3, foreign: [] });
    expect(plans.get('a')!.foreign.map((f) => [f.owner, f.first, f.end])).toEqual([['b', 2, 3]]);
  });

  it('keeps a lone worker, or workers with nothing to share, on their own blocks', () => {
    expect([...encodePlans([drained('a', [5, 5])])]).toEqual([
      ['a', { ownBlocks: 2, foreign: [] }],
    ]);
    const plans = encodePlans([drained('a', [1000]), drained('b', [10])]);
    expect(plans.get('b')).toEqual({ ownBlocks: 1, foreign: [] });
    expect(plans.get('a')).toEqual({ ownBlocks: 1, foreign: [] });
    expect(encodePlans([]).size).toBe(0);
  });
});
