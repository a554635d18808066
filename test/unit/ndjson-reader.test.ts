import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkBuffers, readNdjsonChunks } from '../../src/corpus/ndjson-reader.js';

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

  it('reads into buffers handed back, without changing a byte of what it returns', async () => {
    const path = join(dir, 'recycled.ndjson');
    const lines = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ i, t: 'é'.repeat(i % 41) }),
    );
    // An overlong line and a long one in the middle, and no newline at the end.
    const content = `${lines.slice(0, 150).join('\n')}\n${'q'.repeat(700)}\n${'r'.repeat(400)}\n${lines.slice(150).join('\n')}`;
    await writeFile(path, content);
    const buffers = new ChunkBuffers(64 + 200, 2);
    const seenBuffers = new Set<ArrayBufferLike>();
    let seen = '';
    let chunks = 0;
    for await (const item of readNdjsonChunks(path, {
      chunkBytes: 64,
      maxLineBytes: 500,
      buffers,
    })) {
      if (item.kind === 'overlongLine') {
        seen += `<skipped ${item.bytes}>\n`;
        continue;
      }
      chunks++;
      seenBuffers.add(item.bytes.buffer);
      seen += Buffer.from(item.bytes).toString('utf8');
      buffers.give(item.bytes.buffer);
    }
    const expected = `${lines.slice(0, 150).join('\n')}\n<skipped 700>\n${'r'.repeat(400)}\n${lines.slice(150).join('\n')}`;
    expect(seen).toBe(expected);
    // Every ordinary read reuses the one buffer handed back; only the 400-byte line needs larger.
    expect(chunks).toBeGreaterThan(100);
    expect(seenBuffers.size).toBeLessThanOrEqual(3);
  });
  it('never hands out again a buffer it returned a chunk of', async () => {
    const path = join(dir, 'kept.ndjson');
    const content = `${Array.from({ length: 120 }, (_, i) => `{"i":${i},"t":"${'k'.repeat(i)}"}`).join('\n')}\n`;
    await writeFile(path, content);
    const buffers = new ChunkBuffers(128, 4);
    // The consumer keeps every chunk and hands nothing back.
    const kept: Uint8Array[] = [];
    for await (const item of readNdjsonChunks(path, {
      chunkBytes: 64,
      maxLineBytes: 1000,
      buffers,
    })) {
      if (item.kind === 'chunk') kept.push(item.bytes);
    }
    expect(new Set(kept.map((bytes) => bytes.buffer)).size).toBe(kept.length);
    expect(kept.map((bytes) => Buffer.from(bytes).toString('utf8')).join('')).toBe(content);
  });
});

describe('ChunkBuffers', () => {
  it('hands out a view of the asked size, of a buffer at least as large as its capacity', () => {
    const buffers = new ChunkBuffers(128, 2);
    const small = buffers.take(10);
    expect(small.byteLength).toBe(10);
    expect(small.buffer.byteLength).toBe(128);
    const large = buffers.take(300);
    expect(large.byteLength).toBe(300);
    expect(large.buffer.byteLength).toBe(300);
  });

  it('reuses a buffer handed back only for a size it can hold', () => {
    const buffers = new ChunkBuffers(128, 2);
    const first = buffers.take(100);
    buffers.give(first.buffer);
    expect(buffers.take(200).buffer).not.toBe(first.buffer);
    expect(buffers.take(120).buffer).toBe(first.buffer);
  });

  it('keeps at most its limit, and ignores a buffer transferred away', () => {
    const buffers = new ChunkBuffers(16, 1);
    const a = buffers.take(16);
    const b = buffers.take(16);
    buffers.give(a.buffer);
    buffers.give(b.buffer);
    expect(buffers.take(16).buffer).toBe(a.buffer);
    expect(buffers.take(16).buffer).not.toBe(b.buffer);
    const c = buffers.take(16);
    structuredClone(c.buffer, { transfer: [c.buffer as ArrayBuffer] });
    buffers.give(c.buffer);
    expect(buffers.take(16).buffer).not.toBe(c.buffer);
  });
});
