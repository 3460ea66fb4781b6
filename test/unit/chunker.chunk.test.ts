import { describe, expect, it } from '@jest/globals';
import { ChunkBuilder } from '../../src/chunker/chunk.js';
import type { Chunk } from '../../src/chunker/chunk.js';

/** A deterministic pseudo-random generator so generated inputs are reproducible. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

// ASCII, two-, three- and four-byte (astral) UTF-8, and characters JSON must escape.
const ALPHABET = ['a', 'Z', '7', ' ', ',', '"', '\\', '\n', 'é', 'ß', 'Ω', '中', '€', '😀', '𝄞', '🇫🇷'];

type Row = Array<string | number | boolean | null>;

function randomRow(random: () => number, maxCellChars: number): Row {
  const width = 1 + Math.floor(random() * 5);
  const row: Row = [];
  for (let c = 0; c < width; c++) {
    const kind = random();
    if (kind < 0.1) row.push(null);
    else if (kind < 0.2) row.push(Math.floor(random() * 1e9) - 5e8);
    else if (kind < 0.25) row.push(random() < 0.5);
    else {
      const length = Math.floor(random() ** 2 * maxCellChars);
      let text = '';
      for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(random() * ALPHABET.length)]!;
      row.push(text);
    }
  }
  return row;
}

interface Line {
  row: Row;
  json: string;
  line: number;
}

/** Rows whose JSON fits in `maxBytes`, on increasing source lines (some rows span several lines). */
function randomLines(seed: number, count: number, maxBytes: number): Line[] {
  const random = seeded(seed);
  const out: Line[] = [];
  let line = 2;
  while (out.length < count) {
    const row = randomRow(random, Math.min(120, Math.max(1, Math.floor(maxBytes / 8))));
    const json = JSON.stringify(row);
    if (Buffer.byteLength(json) + 2 > maxBytes) continue;
    out.push({ row, json, line });
    line += 1 + (random() < 0.1 ? Math.floor(random() * 3) : 0);
  }
  return out;
}

function chunkAll(lines: readonly Line[], maxBytes: number, firstIndex?: number): Chunk[] {
  const builder = new ChunkBuilder(maxBytes, { file: 'in.csv', ...(firstIndex === undefined ? {} : { firstIndex }) });
  const chunks: Chunk[] = [];
  for (const { json, line } of lines) {
    const done = builder.add(json, line);
    if (done) chunks.push(done);
  }
  const last = builder.flush();
  if (last) chunks.push(last);
  return chunks;
}

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function stringOfBytes(bytes: number): string {
  // JSON `["…"]` costs 4 bytes around the text; fill with four-byte characters, then ASCII.
  const inner = bytes - 4;
  return '😀'.repeat(Math.floor(inner / 4)) + 'x'.repeat(inner % 4);
}

describe('ChunkBuilder over seeded random rows', () => {
  const cases = [
    { seed: 1, maxBytes: 64, rows: 400 },
    { seed: 2, maxBytes: 200, rows: 600 },
    { seed: 3, maxBytes: 1000, rows: 800 },
    { seed: 4, maxBytes: 4096, rows: 1500 },
    { seed: 5, maxBytes: 65_536, rows: 2000 },
  ];

  for (const { seed, maxBytes, rows } of cases) {
    describe(`maxBytes ${maxBytes} (seed ${seed})`, () => {
      const lines = randomLines(seed, rows, maxBytes);
      const chunks = chunkAll(lines, maxBytes);
      const parsed = chunks.map((chunk) => JSON.parse(chunk.data.toString('utf8')) as unknown);

      it('keeps every chunk within maxBytes', () => {
        expect(chunks.length).toBeGreaterThan(maxBytes >= 65_536 ? 0 : 1);
        for (const chunk of chunks) expect(chunk.data.length).toBeLessThanOrEqual(maxBytes);
      });

      it('emits chunks that are JSON arrays whose concatenation is the input in order', () => {
        for (const array of parsed) expect(Array.isArray(array)).toBe(true);
        expect((parsed as Row[][]).flat()).toEqual(lines.map((l) => l.row));
      });

      it('numbers chunks 1..n and reports rows and source lines per chunk', () => {
        expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i + 1));
        let next = 0;
        for (const [i, chunk] of chunks.entries()) {
          expect(chunk.rows).toBe((parsed[i] as unknown[]).length);
          expect(chunk.firstLine).toBe(lines[next]!.line);
          expect(chunk.lastLine).toBe(lines[next + chunk.rows - 1]!.line);
          next += chunk.rows;
        }
        expect(next).toBe(lines.length);
      });

      it('starts a new chunk only when the next record would exceed maxBytes', () => {
        let next = 0;
        for (const chunk of chunks.slice(0, -1)) {
          next += chunk.rows;
          const following = Buffer.byteLength(lines[next]!.json);
          expect(chunk.data.length + 1 + following).toBeGreaterThan(maxBytes);
        }
      });
    });
  }

  it('starts numbering at firstIndex when given', () => {
    const lines = randomLines(9, 200, 300);
    const chunks = chunkAll(lines, 300, 41);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => 41 + i));
  });
});

describe('ChunkBuilder', () => {
  it('returns undefined from flush when no row is pending', () => {
    const builder = new ChunkBuilder(100, { file: 'in.csv' });
    expect(builder.flush()).toBeUndefined();
    builder.add('[1]', 2);
    expect(builder.flush()).toBeDefined();
    expect(builder.flush()).toBeUndefined();
  });

  it('reports pending bytes equal to the size of the chunk flush would return', () => {
    const builder = new ChunkBuilder(1000, { file: 'in.csv' });
    expect(builder.pendingBytes).toBe(0);
    builder.add('["é"]', 2);
    builder.add('["😀",1]', 3);
    const pending = builder.pendingBytes;
    expect(pending).toBe(Buffer.byteLength('[["é"],["😀",1]]'));
    expect(builder.flush()!.data.length).toBe(pending);
  });

  it('fits a row of exactly maxBytes - 2 bytes alone in a chunk of exactly maxBytes', () => {
    const maxBytes = 103;
    const big = JSON.stringify([stringOfBytes(maxBytes - 2)]);
    expect(Buffer.byteLength(big)).toBe(maxBytes - 2);
    const builder = new ChunkBuilder(maxBytes, { file: 'in.csv' });
    expect(builder.add('[1]', 2)).toBeUndefined();
    const before = builder.add(big, 3);
    expect(before).toMatchObject({ index: 1, rows: 1, firstLine: 2, lastLine: 2 });
    const alone = builder.flush()!;
    expect(alone).toMatchObject({ index: 2, rows: 1, firstLine: 3, lastLine: 3 });
    expect(alone.data.length).toBe(maxBytes);
    expect(alone.data.toString('utf8')).toBe(`[${big}]`);
  });

  it('throws INPUT_RECORD_TOO_LARGE naming the file and line for a row over maxBytes - 2 bytes', () => {
    const maxBytes = 103;
    const tooBig = JSON.stringify([stringOfBytes(maxBytes - 1)]);
    const builder = new ChunkBuilder(maxBytes, { file: 'sales.csv' });
    builder.add('[1]', 2);
    const error = errorOf(() => builder.add(tooBig, 17));
    expect(error).toMatchObject({ code: 'INPUT_RECORD_TOO_LARGE', exitCode: 4 });
    expect((error as Error).message).toContain('sales.csv:17');
    expect((error as Error).message).toContain(`${maxBytes + 1} bytes`);
    expect(builder.flush()).toMatchObject({ rows: 1, firstLine: 2, lastLine: 2 });
  });

  it('measures rows in UTF-8 bytes, not UTF-16 code units', () => {
    // 30 astral characters: 60 code units, 120 bytes.
    const row = JSON.stringify(['😀'.repeat(30)]);
    expect(row.length).toBeLessThan(100);
    const error = errorOf(() => new ChunkBuilder(100, { file: 'in.csv' }).add(row, 5));
    expect(error).toMatchObject({ code: 'INPUT_RECORD_TOO_LARGE' });
  });

  it('rejects a chunk size too small to hold any row', () => {
    expect(() => new ChunkBuilder(2, { file: 'in.csv' })).toThrow(/at least 3 bytes/);
    expect(() => new ChunkBuilder(10.5, { file: 'in.csv' })).toThrow(/integer/);
  });
});

describe('ChunkBuilder.addRows', () => {
  it('stops at the first chunk a batch completes, and takes the rest of the batch on the next call', () => {
    const lines = randomLines(31, 400, 300);
    const text = lines.map((l) => l.json).join(',');
    const rowEnds = new Uint32Array(lines.length);
    let end = -1;
    lines.forEach((l, i) => {
      end += (i === 0 ? 1 : 2) + Buffer.byteLength(l.json) - 1;
      rowEnds[i] = end + 1;
    });
    const batch = { data: Buffer.from(text), rowEnds, rows: lines.length, lines: Float64Array.from(lines, (l) => l.line), bytesRead: 0 };
    const builder = new ChunkBuilder(300, { file: 'in.csv' });
    const chunks: Chunk[] = [];
    let calls = 0;
    for (let from = 0; from < batch.rows; calls++) {
      const { completed, next } = builder.addRows(batch, from);
      if (completed) {
        chunks.push({ ...completed, data: Buffer.from(completed.data) });
        expect(next).toBeLessThan(batch.rows);
      }
      expect(next).toBeGreaterThan(completed ? from - 1 : from);
      from = next;
    }
    const last = builder.flush();
    if (last) chunks.push(last);
    expect(calls).toBe(chunks.length - (last ? 1 : 0) + 1);
    const expected = chunkAll(lines, 300);
    expect(chunks.map((c) => [c.index, c.rows, c.firstLine, c.lastLine, c.data.toString()])).toEqual(
      expected.map((c) => [c.index, c.rows, c.firstLine, c.lastLine, c.data.toString()]),
    );
  });
});

describe('ChunkBuilder.recycle', () => {
  // Rows `[n]` padded to 8 bytes: 1,000-byte chunks hold 111 of them.
  const row = (n: number): string => `[${String(n).padStart(6, ' ')}]`;
  const fill = (builder: ChunkBuilder, first: number, count: number): Chunk[] => {
    const completed: Chunk[] = [];
    for (let n = first; n < first + count; n++) {
      const chunk = builder.add(row(n), n + 2);
      if (chunk) completed.push(chunk);
    }
    return completed;
  };
  const rowsOf = (chunk: Chunk): number[] => (JSON.parse(chunk.data.toString()) as number[][]).map((r) => r[0]!);

  it('gives back the pages of a chunk confirmed while the next one is being filled, and fills a later chunk in the same memory', () => {
    const builder = new ChunkBuilder(1000, { file: 'in.csv' });
    const [first] = fill(builder, 0, 112); // the 112th row starts the second chunk
    expect(rowsOf(first!)).toEqual(Array.from({ length: 111 }, (_, n) => n));
    const memory = first!.data.buffer as ArrayBuffer;
    expect(memory.byteLength).toBe(1000);
    builder.recycle(first!);
    expect(memory.byteLength).toBe(0);
    const [second] = fill(builder, 112, 111);
    expect(second!.data.buffer).not.toBe(memory);
    expect(rowsOf(second!)).toEqual(Array.from({ length: 111 }, (_, n) => 111 + n));
    builder.recycle(second!);
    const third = builder.flush()!;
    expect(third.data.buffer).toBe(memory);
    expect(memory.byteLength).toBe(1000);
    expect(rowsOf(third)).toEqual([222]);
  });

  it('keeps the pages of a chunk confirmed while no chunk is being filled, for the next one to use at once', () => {
    const builder = new ChunkBuilder(1000, { file: 'in.csv' });
    const text = Array.from({ length: 112 }, (_, n) => row(n)).join(',');
    const rowEnds = Uint32Array.from({ length: 112 }, (_, n) => 9 * n + 8);
    const batch = { data: Buffer.from(text), rowEnds, rows: 112, lines: Float64Array.from({ length: 112 }, (_, n) => n + 2), bytesRead: 0 };
    const { completed, next } = builder.addRows(batch);
    expect(next).toBe(111);
    const memory = completed!.data.buffer as ArrayBuffer;
    builder.recycle(completed!);
    expect(memory.byteLength).toBe(1000);
    builder.addRows(batch, next);
    const last = builder.flush()!;
    expect(last.data.buffer).toBe(memory);
    expect(rowsOf(last)).toEqual([111]);
  });

  it('takes back no buffer it did not make', () => {
    const builder = new ChunkBuilder(1000, { file: 'in.csv' });
    const foreign = Buffer.from('[[1]]');
    builder.recycle({ index: 1, data: foreign, rows: 1, firstLine: 2, lastLine: 2 });
    fill(builder, 0, 1);
    expect(builder.flush()!.data.buffer).not.toBe(foreign.buffer);
    expect(foreign.toString()).toBe('[[1]]');
  });
});
