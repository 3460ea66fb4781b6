// The Parquet source's fast paths against the slow ones they replace: encodedBatches against
// batches() through the row serializer (byte for byte, or the same error), and the lean scan
// (checkValues) against the full inference pass, on the conformance corpus and on files written here.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetMetadata } from 'hyparquet';
import type { CompressionCodec, SchemaElement } from 'hyparquet';
import { createRowSerializer } from '../../src/chunker/serialize.js';
import { silentProgress } from '../../src/pipeline/progress.js';
import type { ProgressSink } from '../../src/pipeline/progress.js';
import { scanTable } from '../../src/pipeline/scan.js';
import type { ScanPurpose } from '../../src/pipeline/scan.js';
import type { ColumnRole, WireType } from '../../src/schema/types.js';
import { WIRE_TYPES } from '../../src/schema/types.js';
import { DEFAULT_NULL_TOKENS } from '../../src/schema/values.js';
import { openParquetSource } from '../../src/sources/parquet.js';
import type { ParquetSourceOptions, ParquetTableSource } from '../../src/sources/parquet.js';
import { nullTokensFor } from '../../src/sources/types.js';
import { corpusDataDir, corpusEntries } from '../helpers/parquet-corpus.js';
import type { CorpusEntry } from '../helpers/parquet-corpus.js';
import { generateTypeMatrix, writeParquetFile } from '../helpers/parquet-files.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mstrpush-parquet-encode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ErrorShape {
  code: string | undefined;
  message: string;
  hint: string | undefined;
  location: unknown;
}

function shapeOf(err: unknown): ErrorShape {
  const { code, message, hint, location } = err as { code?: string; message: string; hint?: string; location?: unknown };
  return { code, message, hint, location };
}

interface Pass {
  rows: string[];
  lines: number[];
  error: ErrorShape | undefined;
}

/** The upload pass as it is without encodedBatches: batches() through the row serializer. */
async function serializerPass(source: ParquetTableSource, types: readonly WireType[], skipRows = 0): Promise<Pass> {
  const serialize = createRowSerializer(
    source.columns.map((name, i) => ({ name, type: types[i]! })),
    { nullTokens: nullTokensFor(source, DEFAULT_NULL_TOKENS), file: source.displayName },
  );
  const pass: Pass = { rows: [], lines: [], error: undefined };
  let seen = 0;
  try {
    for await (const batch of source.batches()) {
      for (let i = 0; i < batch.rows.length; i++, seen++) {
        if (seen < skipRows) continue;
        pass.rows.push(serialize(batch.rows[i]!, batch.lines[i]!));
        pass.lines.push(batch.lines[i]!);
      }
    }
  } catch (err) {
    pass.error = shapeOf(err);
  }
  return pass;
}

/** encodedBatches, checking the batch layout on the way: rows back to back, one comma apart. */
async function encoderPass(source: ParquetTableSource, types: readonly WireType[], skipRows = 0): Promise<Pass & { bytes: Buffer; batches: number }> {
  const pass = { rows: [] as string[], lines: [] as number[], error: undefined as ErrorShape | undefined, bytes: Buffer.alloc(0), batches: 0 };
  const parts: Buffer[] = [];
  const layout: string[] = [];
  let bytesRead = 0;
  try {
    for await (const batch of source.encodedBatches({ types, nullTokens: DEFAULT_NULL_TOKENS, skipRows })) {
      pass.batches++;
      if (batch.rows === 0 || batch.data.length !== batch.rowEnds[batch.rows - 1]) layout.push(`batch ${pass.batches} holds ${batch.rows} rows in ${batch.data.length} bytes`);
      if (batch.bytesRead < bytesRead) layout.push(`bytesRead went back from ${bytesRead} to ${batch.bytesRead}`);
      bytesRead = batch.bytesRead;
      let start = 0;
      for (let i = 0; i < batch.rows; i++) {
        const end = batch.rowEnds[i]!;
        if (i > 0 && batch.data[start - 1] !== 0x2c) layout.push(`no comma before row ${batch.lines[i]}`);
        pass.rows.push(batch.data.toString('utf8', start, end));
        pass.lines.push(batch.lines[i]!);
        start = end + 1;
      }
      // The source may reuse its buffer for the next batch.
      parts.push(Buffer.from(batch.data));
    }
    if (pass.rows.length > 0 && bytesRead !== source.totalBytes) layout.push(`bytesRead ends at ${bytesRead} of ${source.totalBytes}`);
  } catch (err) {
    pass.error = shapeOf(err);
  }
  expect(layout).toEqual([]);
  pass.bytes = Buffer.concat(parts.flatMap((part, i) => (i === 0 ? [part] : [Buffer.from(','), part])));
  return pass;
}

async function expectSameUpload(source: ParquetTableSource, types: readonly WireType[], skipRows = 0): Promise<Pass> {
  const want = await serializerPass(source, types, skipRows);
  const got = await encoderPass(source, types, skipRows);
  const failedAt = (want.error?.location as { line?: number } | undefined)?.line;
  if (failedAt !== undefined && failedAt <= skipRows) {
    // batches() converts the rows it reads past too; encodedBatches does not even look at them
    // (a resumed run got past its scan, so they are known good).
    expect((got.error?.location as { line?: number } | undefined)?.line ?? Infinity).toBeGreaterThan(skipRows);
    return want;
  }
  expect({ types, skipRows, error: got.error }).toEqual({ types, skipRows, error: want.error });
  if (want.error === undefined) {
    expect(got.lines).toEqual(want.lines);
    expect(got.rows).toEqual(want.rows);
    expect(got.bytes.equals(Buffer.from(want.rows.join(','), 'utf8'))).toBe(true);
  }
  return want;
}

async function scanOutcome(
  source: ParquetTableSource,
  purpose: ScanPurpose,
  typeOverrides: ReadonlyMap<string, WireType> = new Map(),
  roleOverrides: ReadonlyMap<string, ColumnRole> = new Map(),
  progress: ProgressSink = silentProgress,
): Promise<{ columns?: unknown; rows?: number; error?: ErrorShape }> {
  try {
    const result = await scanTable({ table: 't', source, nullTokens: DEFAULT_NULL_TOKENS, typeOverrides, roleOverrides, progress, purpose });
    return { columns: result.columns, rows: result.rows };
  } catch (err) {
    return { error: shapeOf(err) };
  }
}

async function expectSameScan(source: ParquetTableSource, typeOverrides: ReadonlyMap<string, WireType> = new Map(), roleOverrides: ReadonlyMap<string, ColumnRole> = new Map()) {
  const full = await scanOutcome(source, 'profile', typeOverrides, roleOverrides);
  const lean = await scanOutcome(source, 'load', typeOverrides, roleOverrides);
  expect({ overrides: [...typeOverrides], ...lean }).toEqual({ overrides: [...typeOverrides], ...full });
  return full;
}

/** Wire types rotated by `k` over the columns: most columns get a type other than their own. */
function rotated(columns: readonly string[], k: number): WireType[] {
  return columns.map((_, i) => WIRE_TYPES[(i + k) % WIRE_TYPES.length]!);
}

function overridesOf(columns: readonly string[], types: readonly WireType[]): Map<string, WireType> {
  return new Map(columns.map((name, i) => [name, types[i]!]));
}

function recordingProgress(): ProgressSink & { calls: string[] } {
  const calls: string[] = [];
  return { ...silentProgress, calls, startTable: (s) => calls.push(`start ${s.pass}`), progress: (p) => calls.push(`progress ${p.rows}`), endTable: (p) => calls.push(`end ${p.rows}`) };
}

/** Overwrites the data of one column chunk in every row group, keeping the footer intact. */
function damageColumn(source: string, target: string, column: string): void {
  const bytes = readFileSync(source);
  const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  for (const group of metadata.row_groups) {
    const chunk = group.columns.find((c) => c.meta_data?.path_in_schema[0] === column)!.meta_data!;
    const start = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset);
    bytes.fill(0xff, start, start + Number(chunk.total_compressed_size));
  }
  writeFileSync(target, bytes);
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('the parquet-testing corpus through the fast paths', () => {
  const entries = corpusEntries().filter((e) => e.wayOutError === undefined);

  it.each(entries.map((e) => [e.file, e] as const))('encodes and checks %s as the serializer and the inference pass do', async (_, entry: CorpusEntry) => {
    let source: ParquetTableSource;
    try {
      source = await openParquetSource(path.join(corpusDataDir, entry.file), entry.wayOut ?? {});
    } catch (err) {
      // Only files mstrpush refuses to open may fail here.
      expect({ file: entry.file, reference: entry.reference, code: shapeOf(err).code }).toEqual({ file: entry.file, reference: undefined, code: expect.stringMatching(/^(INPUT_SCHEMA|USAGE)$/) });
      return;
    }
    try {
      const declared = source.declaredTypes;
      const plain = await expectSameUpload(source, declared);
      if (entry.reference !== undefined && entry.valueError === undefined) expect(plain.rows).toHaveLength(entry.reference.rowCount);
      await expectSameUpload(source, declared.map(() => 'STRING'));
      await expectSameUpload(source, declared, Math.floor(source.rowCount / 2));
      await expectSameUpload(source, declared, source.rowCount);
      await expectSameScan(source);
      await expectSameScan(source, overridesOf(source.columns, declared.map(() => 'STRING')));
      // Every rotation on small files; two on the few large ones, to keep the run short.
      for (let k = 1; k < WIRE_TYPES.length; k += source.rowCount > 5000 ? 4 : 1) {
        const types = rotated(source.columns, k);
        await expectSameUpload(source, types);
        await expectSameScan(source, overridesOf(source.columns, types));
      }
    } finally {
      await source.close();
    }
  });
});

describe('encodedBatches on files with every mapped type', () => {
  const columns = generateTypeMatrix(350, 20261123);
  const codecs: CompressionCodec[] = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD', 'BROTLI'];

  it.each(codecs)('writes a %s file with four row groups byte for byte as the serializer does', async (codec) => {
    const file = path.join(dir, `matrix-${codec}.parquet`);
    writeParquetFile(file, columns, { codec, rowGroupSize: 100, pageSize: 512 });
    const source = await openParquetSource(file);
    const pass = await expectSameUpload(source, source.declaredTypes);
    expect(pass.error).toBeUndefined();
    expect(pass.rows).toHaveLength(350);
  });

  it('resumes after skipRows at any row, within a row group, at its edges, or past the end', async () => {
    const source = await openParquetSource(path.join(dir, 'matrix-SNAPPY.parquet'), { encodeBatchBytes: 3000 });
    for (const skipRows of [1, 99, 100, 101, 250, 349, 350, 1000]) {
      const pass = await expectSameUpload(source, source.declaredTypes, skipRows);
      expect(pass.lines[0]).toBe(skipRows < 350 ? skipRows + 1 : undefined);
      expect(pass.rows).toHaveLength(Math.max(0, 350 - skipRows));
    }
  });

  it('ends a batch at the first row that reaches the byte target, and at each row group', async () => {
    const source = await openParquetSource(path.join(dir, 'matrix-SNAPPY.parquet'), { encodeBatchBytes: 4000 });
    const sizes: Array<{ bytes: number; last: number; rows: number }> = [];
    for await (const batch of source.encodedBatches({ types: source.declaredTypes, nullTokens: [] })) {
      sizes.push({ bytes: batch.data.length, last: batch.data.length - (batch.rows > 1 ? batch.rowEnds[batch.rows - 2]! + 1 : 0), rows: batch.rows });
      const lastLine = batch.lines[batch.rows - 1]!;
      // Either the target was reached, or the row group (100 rows) ended.
      expect(batch.data.length >= 4000 || lastLine % 100 === 0 || lastLine === 350).toBe(true);
    }
    for (const { bytes, last } of sizes) expect(bytes - last).toBeLessThan(4000);
    expect(sizes.length).toBeGreaterThan(8);
    expect(sizes.reduce((sum, s) => sum + s.rows, 0)).toBe(350);
  });

  it('writes every column under every wire type as the serializer does, or fails at the same value', async () => {
    const small = generateTypeMatrix(40, 77);
    const file = path.join(dir, 'matrix-small.parquet');
    writeParquetFile(file, small, { rowGroupSize: 15 });
    const source = await openParquetSource(file, { batchRows: 7 });
    let failures = 0;
    for (let c = 0; c < source.columns.length; c++) {
      for (const type of WIRE_TYPES) {
        const types = source.declaredTypes.map((t, i) => (i === c ? type : t));
        if ((await expectSameUpload(source, types)).error !== undefined) failures++;
      }
    }
    // Some overrides must have failed for the comparison to cover errors.
    expect(failures).toBeGreaterThan(50);
  });

  it('writes a file of NULLs in every column and row', async () => {
    const nulls = generateTypeMatrix(30, 5).map((c) => ({ element: c.element, data: c.data.map(() => null) }));
    const file = path.join(dir, 'nulls.parquet');
    writeParquetFile(file, nulls, { rowGroupSize: 8 });
    const source = await openParquetSource(file);
    const pass = await expectSameUpload(source, source.declaredTypes);
    expect(pass.rows[0]).toBe(`[${nulls.map(() => 'null').join(',')}]`);
    await expectSameUpload(source, source.declaredTypes.map(() => 'DATE'));
    expect(await expectSameScan(source, overridesOf(source.columns, source.declaredTypes.map(() => 'TIME')))).toMatchObject({ rows: 30 });
  });

  it('reads past skipped row groups without decoding them', async () => {
    const file = path.join(dir, 'matrix-damaged.parquet');
    damageColumn(path.join(dir, 'matrix-SNAPPY.parquet'), file, 'int32');
    const source = await openParquetSource(file);
    expect((await encoderPass(source, source.declaredTypes)).error).toMatchObject({ code: 'INPUT_READ' });
    const past = await encoderPass(source, source.declaredTypes, 350);
    expect(past).toMatchObject({ rows: [], error: undefined });
  });

  it('closes the file when the consumer leaves early or the signal aborts', async () => {
    const source = await openParquetSource(path.join(dir, 'matrix-SNAPPY.parquet'), { encodeBatchBytes: 1000 });
    const before = openFds();
    let batches = 0;
    for await (const _ of source.encodedBatches({ types: source.declaredTypes, nullTokens: [] })) {
      expect(openFds()).toBe(before + 1);
      if (++batches === 3) break;
    }
    expect(openFds()).toBe(before);
    const controller = new AbortController();
    let error: unknown;
    try {
      for await (const _ of source.encodedBatches({ types: source.declaredTypes, nullTokens: [] }, controller.signal)) controller.abort();
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(openFds()).toBe(before);
  });

  it('refuses a types list that does not match the columns', async () => {
    const source = await openParquetSource(path.join(dir, 'matrix-SNAPPY.parquet'));
    const pass = await encoderPass(source, ['STRING']);
    expect(pass.error).toMatchObject({ code: 'INTERNAL' });
  });
});

describe('bad values through the fast paths', () => {
  const rows = 30;
  const base = (): Array<{ element: SchemaElement; data: unknown[] }> => [
    { element: { name: 'id', type: 'INT32' }, data: Array.from({ length: rows }, (_, r) => r + 1) },
    { element: { name: 'day', type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }, data: Array.from({ length: rows }, (_, r) => 19000 + r) },
    { element: { name: 'clock', type: 'INT32', converted_type: 'TIME_MILLIS', logical_type: { type: 'TIME', isAdjustedToUTC: true, unit: 'MILLIS' } }, data: Array.from({ length: rows }, (_, r) => r * 1000) },
    { element: { name: 'stamp', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } }, data: Array.from({ length: rows }, (_, r) => BigInt(r) * 86_400_000n) },
    { element: { name: 'ratio', type: 'DOUBLE' }, data: Array.from({ length: rows }, (_, r) => r / 4) },
    { element: { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }, data: Array.from({ length: rows }, (_, r) => `row ${r}`) },
    { element: { name: 'payload', type: 'BYTE_ARRAY' }, data: Array.from({ length: rows }, (_, r) => new TextEncoder().encode(`p${r}`)) },
  ];
  let variant = 0;
  async function fileWith(bad: Record<string, Record<number, unknown>>, options: ParquetSourceOptions = {}): Promise<ParquetTableSource> {
    const columns = base().map((c) => ({ ...c, data: c.data.map((v, r) => (bad[c.element.name]?.[r + 1] !== undefined ? bad[c.element.name]![r + 1] : v)) }));
    const file = path.join(dir, `bad-${variant++}.parquet`);
    writeParquetFile(file, columns, { rowGroupSize: 12 });
    return openParquetSource(file, { binaryAsString: true, ...options });
  }

  const cases: Array<[string, Record<string, Record<number, unknown>>, string]> = [
    ['a date past 9999', { day: { 14: 3_000_000 } }, 'day'],
    ['a date before 0001', { day: { 3: -800_000 } }, 'day'],
    ['a time of 24:00', { clock: { 7: 86_400_000 } }, 'clock'],
    ['a negative time', { clock: { 25: -1 } }, 'clock'],
    ['a timestamp in 10000', { stamp: { 13: 253_402_300_800_000n } }, 'stamp'],
    ['a timestamp before 0001', { stamp: { 30: -62_135_596_800_001n } }, 'stamp'],
    ['a double beyond 1e307', { ratio: { 2: 1e308 } }, 'ratio'],
    ['a subnormal double', { ratio: { 17: 5e-324 } }, 'ratio'],
    ['bytes that are not UTF-8', { payload: { 5: new Uint8Array([0x61, 0xff]) } }, 'payload'],
    ['STRING bytes that are not UTF-8', { label: { 9: new Uint8Array([0xed, 0xa0, 0x80]) } }, 'label'],
  ];

  it.each(cases)('stops the lean scan and the encoder at %s exactly as the full passes do', async (_, bad, column) => {
    const source = await fileWith(bad);
    const line = Number(Object.keys(bad[column]!)[0]);
    const full = await expectSameScan(source);
    expect(full.error).toMatchObject({ code: 'INPUT_VALUE', location: { line, column } });
    const upload = await expectSameUpload(source, source.declaredTypes);
    expect(upload.error).toMatchObject({ code: 'INPUT_VALUE', location: { line, column } });
  });

  it('reports a value that cannot become text over an earlier bad value of the same batch, as the full passes do', async () => {
    // Both in the first row group (rows 1-12): one batch by default, two batches of eight rows.
    const bad = { day: { 3: 3_000_000 }, payload: { 10: new Uint8Array([0xff]) } };
    const oneBatch = await fileWith(bad);
    expect((await expectSameScan(oneBatch)).error).toMatchObject({ code: 'INPUT_VALUE', location: { line: 10, column: 'payload' } });
    expect((await expectSameUpload(oneBatch, oneBatch.declaredTypes)).error).toMatchObject({ location: { line: 10, column: 'payload' } });
    const batchesOfEight = await fileWith(bad, { batchRows: 8 });
    expect((await expectSameScan(batchesOfEight)).error).toMatchObject({ code: 'INPUT_VALUE', location: { line: 3, column: 'day' } });
    expect((await expectSameUpload(batchesOfEight, batchesOfEight.declaredTypes)).error).toMatchObject({ location: { line: 3, column: 'day' } });
  });

  it('finds the first bad value by row, then by column, across checked columns', async () => {
    const source = await fileWith({ ratio: { 8: 1e308 }, day: { 8: 3_000_000 }, clock: { 6: -5 } });
    expect((await expectSameScan(source)).error).toMatchObject({ location: { line: 6, column: 'clock' } });
    const sameRow = await fileWith({ ratio: { 8: 1e308 }, stamp: { 8: -62_135_596_800_001n } });
    expect((await expectSameScan(sameRow)).error).toMatchObject({ location: { line: 8, column: 'stamp' } });
  });

  it('checks overridden columns as the full pass does', async () => {
    const source = await fileWith({});
    for (const [name, type] of [['label', 'INTEGER'], ['label', 'DATE'], ['stamp', 'DATE'], ['id', 'BOOL'], ['ratio', 'INTEGER'], ['day', 'DATETIME'], ['payload', 'STRING']] as const) {
      await expectSameScan(source, new Map([[name, type]]));
      await expectSameUpload(source, source.columns.map((c, i) => (c === name ? type : source.declaredTypes[i]!)));
    }
  });

  it('reports unknown --type names and non-numeric metrics as the full pass does', async () => {
    const source = await fileWith({});
    expect((await expectSameScan(source, new Map([['nope', 'INTEGER']]))).error).toMatchObject({ code: expect.any(String) });
    expect((await expectSameScan(source, new Map(), new Map([['label', 'metric']]))).error).toMatchObject({ code: 'USAGE' });
    expect((await expectSameScan(source, new Map([['label', 'DATE']]), new Map([['label', 'metric']]))).error).toMatchObject({ code: 'INPUT_VALUE' });
  });
});

describe('the lean scan', () => {
  const columns = generateTypeMatrix(200, 99);
  const file = path.join(dir, 'lean.parquet');
  beforeAll(() => writeParquetFile(file, columns, { rowGroupSize: 64 }));

  it('reads only the columns whose values can fail their types', async () => {
    const source = await openParquetSource(file);
    const checked = ['float64', 'text', 'category', 'doc', 'day', 'time_ms', 'time_us', 'time_ns', 'ts_ms_utc', 'ts_us_utc', 'ts_us_local', 'ts_ms_legacy', 'ts_us_legacy'];
    expect(source.columnsToCheck(source.declaredTypes)).toEqual(checked);
    const result = await source.checkValues({ types: source.declaredTypes });
    expect(result).toEqual({ rows: 200, columnsRead: checked, invalid: undefined });
    const types = source.columns.map((c, i) => (c === 'int64' ? 'INTEGER' : c === 'int32' ? 'BIGINTEGER' : source.declaredTypes[i]!));
    expect(source.columnsToCheck(types)).toEqual(['int64', ...checked]);
  });

  it('gives the full pass’s schema and row count', async () => {
    const source = await openParquetSource(file);
    const full = await expectSameScan(source);
    expect(full).toMatchObject({ rows: 200 });
    await expectSameScan(source, new Map([['int16', 'BIGINTEGER'], ['day', 'DATETIME']]), new Map([['int8', 'attribute'], ['float64', 'metric']]));
  });

  it('is skipped when no value can fail, with the row count from the file', async () => {
    const fixed = path.join(dir, 'fixed.parquet');
    writeParquetFile(fixed, columns.filter((c) => ['int8', 'int64', 'uint64', 'float32', 'dec_fixed', 'flag', 'uuid', 'ts_ns_utc'].includes(c.element.name)), { rowGroupSize: 64 });
    const source = await openParquetSource(fixed);
    expect(source.columnsToCheck(source.declaredTypes)).toEqual([]);
    const progress = recordingProgress();
    const lean = await scanOutcome(source, 'load', new Map(), new Map(), progress);
    expect(progress.calls).toEqual([]);
    expect(lean).toEqual(await scanOutcome(source, 'profile'));
    expect(lean.rows).toBe(200);
  });

  it('reports progress while it checks', async () => {
    const source = await openParquetSource(file, { batchRows: 50 });
    const progress = recordingProgress();
    await scanOutcome(source, 'load', new Map(), new Map(), progress);
    expect(progress.calls).toEqual(['start scan', 'progress 50', 'progress 64', 'progress 114', 'progress 128', 'progress 178', 'progress 192', 'progress 200', 'end 200']);
  });

  it('leaves the column chunks of columns that cannot fail unread', async () => {
    const damaged = path.join(dir, 'lean-damaged.parquet');
    damageColumn(file, damaged, 'int32');
    const source = await openParquetSource(damaged);
    expect(await scanOutcome(source, 'profile')).toMatchObject({ error: { code: 'INPUT_READ' } });
    expect(await scanOutcome(source, 'load')).toMatchObject({ rows: 200 });
  });

  it('warns about NaN and infinite values once per column, after the first pass that read the column', async () => {
    const nan = path.join(dir, 'nan.parquet');
    writeParquetFile(nan, [
      { element: { name: 'x', type: 'DOUBLE' }, data: [1.5, Number.NaN, Infinity] },
      { element: { name: 'y', type: 'FLOAT' }, data: [Number.NaN, 2, 3] },
    ]);
    const warnings: string[] = [];
    const source = await openParquetSource(nan, { onWarning: (m) => warnings.push(m) });
    await scanOutcome(source, 'load');
    expect(warnings).toEqual([`${nan}: column "x": 2 NaN or infinite values were read as NULL (no wire type holds them)`]);
    const upload = await encoderPass(source, source.declaredTypes);
    expect(upload.rows).toEqual(['[1.5,null]', '[null,2]', '[null,3]']);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toBe(`${nan}: column "y": 1 NaN or infinite value was read as NULL (no wire type holds them)`);
    await serializerPass(source, source.declaredTypes);
    expect(warnings).toHaveLength(2);
  });
});
