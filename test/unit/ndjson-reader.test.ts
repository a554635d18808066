import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNdjsonChunks } from '../../src/corpus/ndjson-reader.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ndjson-reader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(content: string | Buffer, chunkBytes: number, maxLineBytes = 1000) {
  const path = join(dir, `f-${Math.random()}.ndjson`);
  await writeFile(path, content);
  const items = [];
  for await (const item of readNdjsonChunks(path, { chunkBytes, maxLineBytes })) items.push(item);
  return items;
}

function text(items: Awaited<ReturnType<typeof collect>>): string {
  return items
    .map((i) =>
      i.kind === 'chunk' ? Buffer.from(i.bytes).toString('utf8') : `<skipped ${i.bytes}>\n`,
    )
    .join('');
}

describe('readNdjsonChunks', () => {
  it('returns every byte, in chunks that end at line boundaries', async () => {
    const lines = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ i, t: 'x'.repeat(i % 37) }),
    );
    const content = `${lines.join('\n')}\n`;
    const items = await collect(content, 64);
    expect(text(items)).toBe(content);
    for (const item of items) {
      expect(item.kind).toBe('chunk');
      if (item.kind === 'chunk') expect(item.bytes[item.bytes.length - 1]).toBe(0x0a);
    }
  });

  it('keeps a last line without a newline', async () => {
    expect(text(await collect('{"a":1}\n{"b":2}', 4))).toBe('{"a":1}\n{"b":2}');
  });

  it('gives every chunk its own buffer so it can be transferred', async () => {
    const items = await collect('a\nb\nc\nd\n', 2);
    const buffers = new Set(items.map((i) => (i.kind === 'chunk' ? i.bytes.buffer : null)));
    expect(buffers.size).toBe(items.length);
  });

  it('survives a consumer that transfers each chunk, also one that fills the whole read buffer', async () => {
    const path = join(dir, 'transfer.ndjson');
    // Lines of 8 bytes and chunks of 16: every read ends exactly on a newline.
    const content = '{"a":1}\n'.repeat(10);
    await writeFile(path, content);
    let seen = '';
    for await (const item of readNdjsonChunks(path, { chunkBytes: 16, maxLineBytes: 100 })) {
      if (item.kind !== 'chunk') continue;
      seen += Buffer.from(item.bytes).toString('utf8');
      structuredClone(item.bytes.buffer, { transfer: [item.bytes.buffer as ArrayBuffer] });
      expect(item.bytes.buffer.byteLength).toBe(0);
    }
    expect(seen).toBe(content);
  });

  it('strips a UTF-8 byte order mark', async () => {
    const content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n')]);
    expect(text(await collect(content, 1024))).toBe('{"a":1}\n');
  });

  it('skips an overlong line without holding it, and resumes after it', async () => {
    const content = `{"a":1}\n${'y'.repeat(5000)}\n{"b":2}\n`;
    const items = await collect(content, 256, 1000);
    expect(items.filter((i) => i.kind === 'overlongLine')).toHaveLength(1);
    expect(text(items)).toBe('{"a":1}\n<skipped 5000>\n{"b":2}\n');
  });

  it('keeps a line that spans many chunks but is under the limit', async () => {
    const long = JSON.stringify({ t: 'w'.repeat(50_000) });
    const content = `{"a":1}\n${long}\n{"b":2}\n`;
    const items = await collect(content, 1024, 100_000);
    expect(text(items)).toBe(content);
    expect(items.every((i) => i.kind === 'chunk')).toBe(true);
  });

  it('reports an overlong last line without a newline', async () => {
    const items = await collect(`{"a":1}\n${'z'.repeat(3000)}`, 256, 1000);
    expect(text(items)).toBe('{"a":1}\n<skipped 3000>\n');
  });
});
