// The upload and check passes decode a column of a window of rows at a time and join the cells into
// rows afterwards. These tests hold them to the string path (batches() through encodeRowBatches)
// where that can go wrong: windows inside row groups, skipRows inside them, tiny batches, and the
// first failing value in row order when columns fail in another order.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SchemaElement } from 'hyparquet';
import { encodeRowBatches } from '../../src/chunker/encode-rows.js';
import type { WireType } from '../../src/schema/types.js';
import { DEFAULT_NULL_TOKENS } from '../../src/schema/values.js';
import { openParquetSource } from '../../src/sources/parquet.js';
import type { ParquetSourceOptions, ParquetTableSource } from '../../src/sources/parquet.js';
import type { EncodedBatch } from '../../src/sources/types.js';
import { nullTokensFor } from '../../src/sources/types.js';
import { createRandom } from '../helpers/seeded-csv.js';
import { generateTypeMatrix, writeParquetFile } from '../helpers/parquet-files.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mstrpush-parquet-windows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Upload {
  rows: string[];
  lines: number[];
  bytes: Buffer;
  batches: number;
  bytesRead: number[];
  error: { code: string | undefined; message: string; location: unknown } | undefined;
}

function errorOf(err: unknown): Upload['error'] {
  const { code, message, location } = err as { code?: string; message: string; location?: unknown };
  return { code, message, location };
}

/** Every row of `batches`, each batch's layout checked, and the error it ends with. */
async function collect(batches: AsyncIterable<EncodedBatch>, allowEmpty = false): Promise<Upload> {
  const upload: Upload = { rows: [], lines: [], bytes: Buffer.alloc(0), batches: 0, bytesRead: [], error: undefined };
  const parts: Buffer[] = [];
  try {
    for await (const batch of batches) {
      // The string path hands over a batch of no rows for each batch of batches() it skips.
      if (batch.rows === 0 && allowEmpty) continue;
      upload.batches++;
      expect(batch.rows).toBeGreaterThan(0);
      expect(batch.data.length).toBe(batch.rowEnds[batch.rows - 1]);
      let start = 0;
      for (let i = 0; i < batch.rows; i++) {
        if (i > 0) expect(batch.data[start - 1]).toBe(0x2c);
        upload.rows.push(batch.data.toString('utf8', start, batch.rowEnds[i]));
        upload.lines.push(batch.lines[i]!);
        start = batch.rowEnds[i]! + 1;
      }
      upload.bytesRead.push(batch.bytesRead);
      parts.push(Buffer.from(batch.data));
    }
  } catch (err) {
    upload.error = errorOf(err);
  }
  upload.bytes = Buffer.concat(parts.flatMap((part, i) => (i === 0 ? [part] : [Buffer.from(','), part])));
  return upload;
}

function stringPath(source: ParquetTableSource, types: readonly WireType[], skipRows = 0): Promise<Upload> {
  const columns = source.columns.map((name, i) => ({ name, type: types[i]! }));
  return collect(encodeRowBatches(source.batches(), columns, { nullTokens: nullTokensFor(source, DEFAULT_NULL_TOKENS), file: source.displayName, skipRows }), true);
}

function bytePath(source: ParquetTableSource, types: readonly WireType[], skipRows = 0): Promise<Upload> {
  return collect(source.encodedBatches({ types, nullTokens: DEFAULT_NULL_TOKENS, skipRows }));
}

const openedWith = new WeakMap<ParquetTableSource, ParquetSourceOptions>();

async function open(file: string, options: ParquetSourceOptions): Promise<ParquetTableSource> {
  const source = await openParquetSource(file, options);
  openedWith.set(source, options);
  return source;
}

/** The byte path against the string path: the same rows, lines and bytes, or the same error. */
async function expectSameUpload(source: ParquetTableSource, types: readonly WireType[], skipRows = 0): Promise<Upload> {
  const want = await stringPath(source, types, skipRows);
  const got = await bytePath(source, types, skipRows);
  expect({ skipRows, error: got.error }).toEqual({ skipRows, error: want.error });
  if (want.error === undefined) {
    expect(got.lines).toEqual(want.lines);
    expect(got.rows).toEqual(want.rows);
    expect(got.bytes.equals(want.bytes)).toBe(true);
    if (got.rows.length > 0) expect(got.bytesRead.at(-1)).toBe(source.totalBytes);
  } else {
    // Rows before the failure go out in the batches they complete: the string path with a row a
    // batch hands over every row before the first failing value.
    const failedAt = (want.error.location as { line: number }).line;
    expect(got.lines.every((line) => line < failedAt)).toBe(true);
    const rowByRow = await stringPath(await openParquetSource(source.displayName, { ...openedWith.get(source), batchRows: 1 }), types, skipRows);
    expect(got.rows).toEqual(rowByRow.rows.slice(0, got.rows.length));
    expect(got.rows.length).toBeLessThanOrEqual(rowByRow.rows.length);
  }
  expect([...got.bytesRead].sort((a, b) => a - b)).toEqual(got.bytesRead);
  return got;
}

describe('encodedBatches in windows of rows', () => {
  // Three row groups (250, 250 and 200 rows) of every mapped type, NULLs in every column, small pages.
  const file = path.join(dir, 'matrix.parquet');
  beforeAll(() => writeParquetFile(file, generateTypeMatrix(700, 20261201), { rowGroupSize: 250, pageSize: 700 }));

  // Windows are whole batches of batchRows: 16 rows a batch makes windows of 16, 48 and 96 rows.
  const layouts: Array<[string, ParquetSourceOptions]> = [
    ['whole row groups', {}],
    ['windows of 96 rows', { batchRows: 16, windowRows: 96 }],
    ['windows of 48 rows and batches of about 2 kB', { batchRows: 16, windowRows: 48, encodeBatchBytes: 2000 }],
    ['windows of 16 rows and a batch per row', { batchRows: 16, windowRows: 16, encodeBatchBytes: 1 }],
  ];

  it.each(layouts)('writes a file with several row groups byte for byte as the string path does, in %s', async (_, options) => {
    const source = await open(file, options);
    const upload = await expectSameUpload(source, source.declaredTypes);
    expect(upload.error).toBeUndefined();
    expect(upload.rows).toHaveLength(700);
    if (options.encodeBatchBytes === 1) expect(upload.batches).toBe(700);
  });

  it('writes every column as text byte for byte as the string path does, in windows', async () => {
    const source = await open(file, { batchRows: 16, windowRows: 32, encodeBatchBytes: 3000 });
    const upload = await expectSameUpload(source, source.declaredTypes.map(() => 'STRING'));
    expect(upload.rows).toHaveLength(700);
  });

  it('resumes after skipRows inside a window, at a window edge, at a row group edge and past the end', async () => {
    const source = await open(file, { batchRows: 16, windowRows: 48, encodeBatchBytes: 2500 });
    for (const skipRows of [1, 47, 48, 49, 100, 249, 250, 251, 260, 499, 500, 699, 700, 900]) {
      const upload = await expectSameUpload(source, source.declaredTypes, skipRows);
      expect(upload.lines[0]).toBe(skipRows < 700 ? skipRows + 1 : undefined);
      expect(upload.rows).toHaveLength(Math.max(0, 700 - skipRows));
    }
  });

  it('ends batches at the byte target and at each row group, not at window edges', async () => {
    const source = await open(file, { batchRows: 16, windowRows: 16, encodeBatchBytes: 5000 });
    const ends: number[] = [];
    for await (const batch of source.encodedBatches({ types: source.declaredTypes, nullTokens: [] })) {
      const last = batch.lines[batch.rows - 1]!;
      const beforeLast = batch.rows > 1 ? batch.rowEnds[batch.rows - 2]! : -1;
      // The batch ends at the row that reached the target, or at the end of a row group.
      expect(batch.data.length >= 5000 || last % 250 === 0 || last === 700).toBe(true);
      expect(beforeLast).toBeLessThan(5000);
      ends.push(last);
    }
    expect(ends).toEqual(expect.arrayContaining([250, 500, 700]));
    expect(ends.some((line) => line % 16 !== 0)).toBe(true);
  });
});

describe('encodedBatches on repeated and long values', () => {
  const random = createRandom(777);
  const rows = 9000;
  const long = Array.from({ length: 5 }, (_, k) => `${'long value '.repeat(20 + k * 3)}#${k} ü`);
  const columns: Array<{ element: SchemaElement; data: unknown[] }> = [
    { element: { name: 'id', type: 'INT32' }, data: Array.from({ length: rows }, (_, r) => r) },
    // A handful of values, some of 255 bytes and more: written once per window, then repeated.
    { element: { name: 'long', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }, data: Array.from({ length: rows }, (_, r) => (r % 11 === 4 ? null : long[Math.floor(random() * long.length)]!)) },
    // More distinct values than are looked up for repeats, each repeated.
    { element: { name: 'many', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }, data: Array.from({ length: rows }, () => `v${Math.floor(random() * 20000)}`) },
    { element: { name: 'cell', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }, data: Array.from({ length: rows }, (_, r) => 'x'.repeat([253, 254, 255, 256, 1000][r % 5]!)) },
    { element: { name: 'ratio', type: 'DOUBLE' }, data: Array.from({ length: rows }, (_, r) => (r % 13 === 0 ? null : Math.round(random() * 1e6) / 100)) },
  ];

  it('writes them byte for byte as the string path does, in one window and in many', async () => {
    const file = path.join(dir, 'repeats.parquet');
    writeParquetFile(file, columns, { rowGroupSize: 5000 });
    for (const options of [{}, { batchRows: 64, windowRows: 640 }]) {
      const source = await open(file, options);
      const upload = await expectSameUpload(source, source.declaredTypes);
      expect(upload.rows).toHaveLength(rows);
    }
  });

  it('checks repeated bytes as the full pass does, and finds a bad one after good repeats', async () => {
    const bad = columns.map((c) => (c.element.name === 'long' ? { ...c, data: c.data.map((v, r) => (r === 7000 ? new Uint8Array([0x61, 0xff]) : v)) } : c));
    const file = path.join(dir, 'repeats-bad.parquet');
    writeParquetFile(file, bad, { rowGroupSize: 5000 });
    const source = await open(file, { batchRows: 100, windowRows: 1000 });
    await expect(source.checkValues({ types: source.declaredTypes })).rejects.toMatchObject({ code: 'INPUT_VALUE', location: { line: 7001, column: 'long' } });
    const upload = await expectSameUpload(source, source.declaredTypes);
    expect(upload.error).toMatchObject({ code: 'INPUT_VALUE', location: { line: 7001, column: 'long' } });
  });
});

describe('the first failing value across columns', () => {
  const rows = 40;
  // id and the text columns cannot fail their own types; day, clock and ratio can.
  const base = (): Array<{ element: SchemaElement; data: unknown[] }> => [
    { element: { name: 'id', type: 'INT32' }, data: Array.from({ length: rows }, (_, r) => r + 1) },
    { element: { name: 'day', type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }, data: Array.from({ length: rows }, (_, r) => 19000 + r) },
    { element: { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }, data: Array.from({ length: rows }, (_, r) => `row ${r}`) },
    { element: { name: 'clock', type: 'INT32', converted_type: 'TIME_MILLIS', logical_type: { type: 'TIME', isAdjustedToUTC: true, unit: 'MILLIS' } }, data: Array.from({ length: rows }, (_, r) => r * 1000) },
    { element: { name: 'ratio', type: 'DOUBLE' }, data: Array.from({ length: rows }, (_, r) => r / 4) },
    { element: { name: 'payload', type: 'BYTE_ARRAY' }, data: Array.from({ length: rows }, (_, r) => new TextEncoder().encode(`p${r}`)) },
  ];
  let variant = 0;
  function fileWith(bad: Record<string, Record<number, unknown>>): string {
    const columns = base().map((c) => ({ ...c, data: c.data.map((v, r) => bad[c.element.name]?.[r + 1] ?? v) }));
    const file = path.join(dir, `bad-${variant++}.parquet`);
    writeParquetFile(file, columns, { rowGroupSize: 16 });
    return file;
  }
  const openBad = (file: string, options: ParquetSourceOptions): Promise<ParquetTableSource> => open(file, { binaryAsString: true, ...options });

  // Row numbers are 1-based; row groups are rows 1-16, 17-32 and 33-40.
  const cases: Array<[string, Record<string, Record<number, unknown>>, { line: number; column: string }]> = [
    ['a later column failing at an earlier row', { day: { 12: 3_000_000 }, clock: { 5: -1 } }, { line: 5, column: 'clock' }],
    ['the last column failing first', { day: { 9: 3_000_000 }, ratio: { 9: 1e308 }, payload: { 3: new Uint8Array([0xff]) } }, { line: 3, column: 'payload' }],
    ['two columns failing in the same row', { ratio: { 7: 1e308 }, day: { 7: -800_000 } }, { line: 7, column: 'day' }],
    ['failures in two row groups', { clock: { 30: 86_400_000 }, day: { 20: 3_000_000 } }, { line: 20, column: 'day' }],
    ['failures in the second window of a row group', { ratio: { 15: 5e-324 }, day: { 14: 3_000_000 } }, { line: 14, column: 'day' }],
  ];

  it.each(cases)('stops at %s as the string path does', async (_, bad, at) => {
    const file = fileWith(bad);
    for (const options of [{}, { batchRows: 4, windowRows: 8 }, { batchRows: 4, windowRows: 4, encodeBatchBytes: 1 }]) {
      const source = await openBad(file, options);
      const upload = await expectSameUpload(source, source.declaredTypes);
      expect(upload.error).toMatchObject({ code: 'INPUT_VALUE', location: at });
      if (options.encodeBatchBytes === 1) expect(upload.rows).toHaveLength(at.line - 1);
    }
  });

  it.each(cases)('finds the same first bad value in the lean check for %s, in windows or not', async (_, bad, at) => {
    const file = fileWith(bad);
    const outcomes = [];
    for (const options of [{ batchRows: 4 }, { batchRows: 4, windowRows: 8 }, { batchRows: 4, windowRows: 4 }]) {
      const source = await openBad(file, options);
      const progress: number[] = [];
      try {
        const { invalid } = await source.checkValues({ types: source.declaredTypes, onProgress: (p) => progress.push(p.rows) });
        outcomes.push({ invalid: { line: invalid?.line, column: source.columns[invalid?.column ?? -1] }, progress });
      } catch (err) {
        outcomes.push({ error: errorOf(err), progress });
      }
    }
    const first = outcomes[0]!;
    expect('invalid' in first ? first.invalid : first.error?.location).toMatchObject(at);
    // Progress is told batch by batch up to the batch that holds the bad value.
    expect(first.progress).toEqual(Array.from({ length: Math.floor((at.line - 1) / 4) }, (_, k) => (k + 1) * 4));
    expect(outcomes[1]).toEqual(first);
    expect(outcomes[2]).toEqual(first);
  });

  it('reports a value that cannot become text later in the batch over an earlier refused value, across windows and columns', async () => {
    // label as INTEGER is refused at row 1; payload cannot become text at row 6, in the same batch of 8.
    const file = fileWith({ payload: { 6: new Uint8Array([0xff]) } });
    for (const options of [{ batchRows: 8 }, { batchRows: 8, windowRows: 8 }]) {
      const source = await openBad(file, options);
      const types = source.declaredTypes.map((t, i) => (source.columns[i] === 'label' ? 'INTEGER' : t));
      const upload = await expectSameUpload(source, types);
      expect(upload.error).toMatchObject({ code: 'INPUT_VALUE', location: { line: 6, column: 'payload' } });
    }
    // In batches of 4 rows, row 6 is in the next batch: the refusal at row 1 comes first.
    const source = await openBad(file, { batchRows: 4, windowRows: 4 });
    const types = source.declaredTypes.map((t, i) => (source.columns[i] === 'label' ? 'INTEGER' : t));
    const upload = await expectSameUpload(source, types);
    expect(upload.error).toMatchObject({ location: { line: 1, column: 'label' } });
  });
});

describe('checkValues in windows of rows', () => {
  it('gives the same result and the same progress as whole row groups', async () => {
    const file = path.join(dir, 'check.parquet');
    writeParquetFile(file, generateTypeMatrix(300, 4242), { rowGroupSize: 128 });
    const runs = [];
    for (const options of [{ batchRows: 16 }, { batchRows: 16, windowRows: 32 }, { batchRows: 16, windowRows: 16 }]) {
      const source = await open(file, options);
      const progress: Array<{ rows: number; bytesRead: number }> = [];
      const result = await source.checkValues({ types: source.declaredTypes, onProgress: (p) => progress.push(p) });
      runs.push({ result, progress });
    }
    expect(runs[0]!.result).toMatchObject({ rows: 300, invalid: undefined });
    expect(runs[0]!.progress.map((p) => p.rows)).toEqual([16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 272, 288, 300]);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });
});
