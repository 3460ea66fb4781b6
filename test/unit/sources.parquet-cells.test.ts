// ColumnCells and RowJoiner: a column's values written once as wire JSON cells, then joined row by
// row into batches. Checked against rows built here from the cells' texts, over seeded random
// cell lengths (short, at and around the long-length mark, long), repeats and failures.

import { ColumnCells, JsonOutput, RowJoiner, objectValues } from '../../src/sources/parquet-encode.js';
import type { ValueEncoder } from '../../src/sources/parquet-encode.js';
import type { EncodedBatch } from '../../src/sources/types.js';
import { createRandom } from '../helpers/seeded-csv.js';

/** Writes each value's text (or, for bytes, the bytes) as a cell; counts its calls; throws on 'boom'. */
function textEncoder(): ValueEncoder & { calls: number } {
  const encode = ((out: JsonOutput, values: ArrayLike<unknown>, row: number) => {
    encode.calls++;
    const value = values[row];
    if (value === 'boom') throw new Error(`boom at ${row}`);
    const bytes = value instanceof Uint8Array ? value : Buffer.from(value === null ? 'null' : String(value));
    out.ensure(bytes.length);
    out.buf.set(bytes, out.pos);
    out.pos += bytes.length;
  }) as ValueEncoder & { calls: number };
  encode.calls = 0;
  return encode;
}

interface Joined {
  rows: string[];
  lines: number[];
  sizes: number[];
}

/** Joins `count` cells of `columns` into batches of about `target` bytes. */
function joinAll(columns: ColumnCells[], count: number, firstLine: number, target: number): Joined {
  const joiner = new RowJoiner(16);
  const joined: Joined = { rows: [], lines: [], sizes: [] };
  const take = (batch: EncodedBatch): void => {
    let start = 0;
    for (let i = 0; i < batch.rows; i++) {
      joined.rows.push(batch.data.toString('utf8', start, batch.rowEnds[i]));
      joined.lines.push(batch.lines[i]!);
      start = batch.rowEnds[i]! + 1;
    }
    expect(batch.data.length).toBe(batch.rowEnds[batch.rows - 1]);
    joined.sizes.push(batch.data.length);
  };
  let cell = 0;
  while (cell < count) {
    cell = joiner.append(columns, count, firstLine, target);
    if (joiner.out.pos >= target) take(joiner.take(0));
  }
  if (joiner.rows > 0) take(joiner.take(0));
  return joined;
}

const random = createRandom(20261202);
const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));

/** A cell text of `length` bytes, with a multi-byte character now and then. */
function text(length: number): string {
  if (length >= 2 && random() < 0.2) return `é${'abcdefgh'.repeat(Math.ceil(length / 8)).slice(0, length - 2)}`;
  return 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(length / 36) + 1).slice(0, length);
}

describe('ColumnCells and RowJoiner', () => {
  it('joins the cells of every column into rows, one comma between rows, for any cell length', () => {
    const count = 3000;
    const lengths = [() => int(1, 9), () => int(200, 300), () => int(250, 260), () => (random() < 0.01 ? int(60_000, 70_000) : int(1, 40))];
    const values = lengths.map((length) => Array.from({ length: count }, () => text(length())));
    const columns = values.map((v) => {
      const cells = new ColumnCells();
      expect(cells.encode(textEncoder(), v, count)).toBe(count);
      return cells;
    });
    const joined = joinAll(columns, count, 101, 50_000);
    expect(joined.rows).toEqual(Array.from({ length: count }, (_, r) => `[${values.map((v) => v[r]).join(',')}]`));
    expect(joined.lines).toEqual(Array.from({ length: count }, (_, r) => 101 + r));
    expect(joined.sizes.length).toBeGreaterThan(5);
  });

  it('ends a batch at the row that reaches the target, and the next batch starts at the next row', () => {
    const cells = new ColumnCells();
    cells.encode(textEncoder(), ['aaaa', 'bb', 'cccccc', 'd', 'ee'], 5);
    const joined = joinAll([cells], 5, 1, 9);
    // [aaaa] is 6 bytes and ,[bb] brings the batch to 11; [cccccc] is 8 and ,[d] brings it to 12.
    expect(joined.sizes).toEqual([11, 12, 4]);
    expect(joined.rows).toEqual(['[aaaa]', '[bb]', '[cccccc]', '[d]', '[ee]']);
  });

  it('writes a repeated object value again from its first cell, without encoding it again', () => {
    const dictionary = ['short', 'x'.repeat(254), 'y'.repeat(255), 'z'.repeat(5000)].map((t) => Buffer.from(t));
    const values = Array.from({ length: 2000 }, (_, r) => (r % 9 === 0 ? null : dictionary[int(0, dictionary.length - 1)]!));
    expect(objectValues(values, values.length)).toBe(true);
    const encoder = textEncoder();
    const cells = new ColumnCells();
    expect(cells.encode(encoder, values, values.length)).toBe(2000);
    // Each distinct value once, and every NULL.
    expect(encoder.calls).toBe(dictionary.length + values.filter((v) => v === null).length);
    expect(joinAll([cells], 2000, 1, 1 << 20).rows).toEqual(values.map((v) => `[${v === null ? 'null' : v.toString()}]`));
  });

  it('stops looking up repeats after many distinct values, and writes the same cells', () => {
    const pool = Array.from({ length: 10_000 }, (_, k) => Buffer.from(`v${k}`));
    const values = Array.from({ length: 12_000 }, () => pool[int(0, pool.length - 1)]!);
    const encoder = textEncoder();
    const cells = new ColumnCells();
    cells.encode(encoder, values, values.length);
    expect(encoder.calls).toBeGreaterThan(4096);
    expect(encoder.calls).toBeLessThan(values.length);
    expect(joinAll([cells], values.length, 1, 1 << 20).rows).toEqual(values.map((v) => `[${v.toString()}]`));
  });

  it('looks up repeats only for columns of objects', () => {
    expect(objectValues([null, null, 3, 4], 4)).toBe(false);
    expect(objectValues([null, 1n], 2)).toBe(false);
    expect(objectValues([null, new Uint8Array(1)], 2)).toBe(true);
    expect(objectValues([null, null], 2)).toBe(false);
    const encoder = textEncoder();
    new ColumnCells().encode(encoder, [7, 7, 7, 7], 4);
    expect(encoder.calls).toBe(4);
  });

  it('stops at the first value that throws, keeps what it threw, and joins the cells before it', () => {
    const cells = new ColumnCells();
    expect(cells.encode(textEncoder(), ['a', 'b', 'boom', 'c'], 4)).toBe(2);
    expect(cells).toMatchObject({ count: 2, failure: { message: 'boom at 2' } });
    expect(joinAll([cells], cells.count, 1, 100).rows).toEqual(['[a]', '[b]']);
    // The next encode starts afresh.
    expect(cells.encode(textEncoder(), ['d'], 1)).toBe(1);
    expect(cells.failure).toBeUndefined();
    expect(joinAll([cells], 1, 1, 100).rows).toEqual(['[d]']);
  });

  it('reuses its buffer from one stretch of rows to the next', () => {
    const cells = new ColumnCells();
    cells.encode(textEncoder(), Array.from({ length: 5000 }, () => text(30)), 5000);
    const buffer = cells.out.buf;
    const again = Array.from({ length: 4000 }, () => text(30));
    cells.encode(textEncoder(), again, 4000);
    expect(cells.out.buf).toBe(buffer);
    expect(joinAll([cells], 4000, 1, 1 << 20).rows).toEqual(again.map((v) => `[${v}]`));
  });
});
