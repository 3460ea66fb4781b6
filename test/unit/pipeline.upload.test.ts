import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Chunk } from '../../src/chunker/chunk.js';
import { uploadTable } from '../../src/pipeline/upload.js';
import type { ProgressSink } from '../../src/pipeline/progress.js';
import type { EncodedBatch, TableSource } from '../../src/sources/types.js';

const quiet: ProgressSink = { step() {}, stepDone() {}, startTable() {}, progress() {}, endTable() {}, warn() {}, info() {} };

/** A source whose upload pass yields `batches` batches of `rowsPerBatch` rows `[n]`, reusing one buffer as the CSV source does. */
function sourceOf(batches: number, rowsPerBatch: number): TableSource {
  return {
    displayName: 'in.csv',
    format: 'csv',
    totalBytes: batches,
    columns: ['n'],
    declaredTypes: undefined,
    batches: () => {
      throw new Error('not used');
    },
    close: async () => {},
    async *encodedBatches(): AsyncGenerator<EncodedBatch> {
      const data = Buffer.alloc(rowsPerBatch * 12);
      for (let b = 0; b < batches; b++) {
        const rowEnds = new Uint32Array(rowsPerBatch);
        let at = 0;
        for (let r = 0; r < rowsPerBatch; r++) {
          at += data.write(`${r === 0 ? '' : ','}[${String(b * rowsPerBatch + r).padStart(6, ' ')}]`, at);
          rowEnds[r] = at;
        }
        yield { data: data.subarray(0, at), rowEnds, rows: rowsPerBatch, lines: Float64Array.from(rowEnds, (_, r) => b * rowsPerBatch + r + 2), bytesRead: b + 1 };
      }
    },
  };
}

describe('uploadTable', () => {
  it('holds two chunk buffers when reading runs ahead of a slow server, even when one batch fills several chunks', async () => {
    const buffers = new Set<ArrayBufferLike>();
    const sent: string[] = [];
    const send = async (_table: string, chunk: Chunk): Promise<void> => {
      buffers.add(chunk.data.buffer);
      // A confirmed chunk's memory is reused whole: the next chunk was already waiting for it.
      expect([...buffers].map((b) => b.byteLength)).toEqual([...buffers].map(() => 1000));
      sent.push(chunk.data.toString());
      await sleep(5);
    };
    // Rows are 8 bytes plus a comma; 1,000 bytes hold 111 rows, and each batch of 500 rows fills several chunks.
    const result = await uploadTable({ table: 't', source: sourceOf(6, 500), types: ['INTEGER'], chunkSize: 1000, nullTokens: [], send, progress: quiet });
    expect(result.rows).toBe(3000);
    expect(result.chunks).toBe(Math.ceil(3000 / 111));
    expect(buffers.size).toBe(2);
    const rows = sent.flatMap((text) => (JSON.parse(text) as number[][]).map((row) => row[0]));
    expect(rows).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it('gives back the memory of each confirmed chunk when the reading is the slower side', async () => {
    const slow = sourceOf(30, 20);
    const batches = slow.encodedBatches!.bind(slow);
    slow.encodedBatches = async function* (options, signal) {
      for await (const batch of batches(options, signal)) {
        await sleep(2);
        yield batch;
      }
    };
    const sent: Chunk[] = [];
    const previousHeld: number[] = [];
    const send = async (_table: string, chunk: Chunk): Promise<void> => {
      // The chunk before this one was confirmed while this one was being filled (a chunk takes six batches).
      const previous = sent[sent.length - 1];
      if (previous !== undefined) {
        expect(previous.data.buffer).not.toBe(chunk.data.buffer);
        previousHeld.push(previous.data.buffer.byteLength);
      }
      sent.push(chunk);
      expect(JSON.parse(chunk.data.toString())).toHaveLength(chunk.rows);
      await sleep(1);
    };
    const result = await uploadTable({ table: 't', source: slow, types: ['INTEGER'], chunkSize: 1000, nullTokens: [], send, progress: quiet });
    expect(result.rows).toBe(600);
    expect(result.chunks).toBe(Math.ceil(600 / 111));
    expect(previousHeld).toEqual([0, 0, 0, 0, 0]);
    expect(new Set(sent.map((c) => c.data.buffer)).size).toBe(2);
  });
});
