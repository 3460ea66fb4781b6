// The Parquet source on files written here: every mapped type with NULLs, several codecs and row
// groups, batch bookkeeping, early exit, exclusion, refusals, and damaged or foreign files.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { CompressionCodec } from 'hyparquet';
import { openParquetSource } from '../../src/sources/parquet.js';
import type { ParquetSourceOptions, ParquetTableSource } from '../../src/sources/parquet.js';
import type { RowBatch } from '../../src/sources/types.js';
import { expectedRows, generateTypeMatrix, writeParquetFile } from '../helpers/parquet-files.js';
import type { ExpectedCell } from '../helpers/parquet-files.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mstrpush-parquet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(source: ParquetTableSource, signal?: AbortSignal): Promise<{ rows: ExpectedCell[][]; batches: RowBatch[] }> {
  const batches: RowBatch[] = [];
  for await (const batch of source.batches(signal)) batches.push(batch);
  return { rows: batches.flatMap((b) => b.rows), batches };
}

async function failure(run: () => Promise<unknown>): Promise<{ code?: string; message: string; hint?: string }> {
  try {
    await run();
  } catch (err) {
    return err as { code?: string; message: string; hint?: string };
  }
  throw new Error('expected a failure');
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('openParquetSource on a file with every mapped type', () => {
  const columns = generateTypeMatrix(350, 20261121);
  const expected = expectedRows(columns);
  const codecs: CompressionCodec[] = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD', 'BROTLI'];

  it.each(codecs)('reads every cell of a %s file with four row groups as its exact wire text', async (codec) => {
    const file = path.join(dir, `types-${codec}.parquet`);
    writeParquetFile(file, columns, { codec, rowGroupSize: 100, pageSize: 512 });
    const source = await openParquetSource(file);
    expect(source.format).toBe('parquet');
    expect(source.columns).toEqual(columns.map((c) => c.element.name));
    expect(source.declaredTypes).toEqual(columns.map((c) => c.wireType));
    expect(source.rowCount).toBe(350);
    const { rows } = await readAll(source);
    expect(rows).toHaveLength(350);
    for (let c = 0; c < columns.length; c++) {
      // Column by column, so a failure names the column.
      expect({ column: columns[c]!.element.name, cells: rows.map((row) => row[c]) }).toEqual({
        column: columns[c]!.element.name,
        cells: columns[c]!.expected,
      });
    }
    expect(rows).toEqual(expected);
    await source.close();
  });

  it('puts a NULL in every column and a value in every column', async () => {
    for (const column of columns) {
      expect(column.expected).toContain(null);
      expect(column.expected.some((cell) => cell !== null)).toBe(true);
    }
  });

  it('names the file types of the columns in words', async () => {
    const file = path.join(dir, 'types-SNAPPY.parquet');
    const source = await openParquetSource(file);
    const byName = Object.fromEntries(source.columns.map((name, i) => [name, source.parquetTypes[i]]));
    expect(byName).toMatchObject({
      uint64: 'INT64 UINT64',
      dec_fixed: 'FIXED_LEN_BYTE_ARRAY(16) DECIMAL(38, 10)',
      dec_bytes: 'BYTE_ARRAY DECIMAL(45, 7)',
      ts_us_local: 'INT64 TIMESTAMP(MICROS)',
      ts_ns_utc: 'INT64 TIMESTAMP(NANOS, UTC)',
      time_ns: 'INT64 TIME(NANOS)',
    });
  });
});

describe('ParquetTableSource.batches', () => {
  const columns = generateTypeMatrix(1000, 7).slice(0, 3);
  const file = path.join(dir, 'batches.parquet');
  beforeAll(() => writeParquetFile(file, columns, { rowGroupSize: 300 }));

  it('numbers rows from 1 across row groups and batches', async () => {
    const source = await openParquetSource(file, { batchRows: 128 });
    const { batches } = await readAll(source);
    const lines = batches.flatMap((b) => b.lines);
    expect(lines).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    for (const batch of batches) {
      expect(batch.rows.length).toBe(batch.lines.length);
      expect(batch.rows.length).toBeLessThanOrEqual(128);
    }
  });

  it('advances bytesRead row group by row group and ends at the file size', async () => {
    const source = await openParquetSource(file, { batchRows: 100 });
    const { batches } = await readAll(source);
    const bytes = batches.map((b) => b.bytesRead);
    for (let i = 1; i < bytes.length; i++) expect(bytes[i]).toBeGreaterThanOrEqual(bytes[i - 1]!);
    expect(bytes[0]).toBeGreaterThan(0);
    expect(bytes[0]).toBeLessThan(source.totalBytes!);
    expect(bytes.at(-1)).toBe(source.totalBytes);
    expect(source.totalBytes).toBe(readFileSync(file).length);
  });

  it('gives the same rows on a second pass', async () => {
    const source = await openParquetSource(file);
    const first = await readAll(source);
    const second = await readAll(source);
    expect(second.rows).toEqual(first.rows);
    expect(first.rows).toEqual(expectedRows(columns));
  });

  it('closes the file when the consumer leaves the loop early', async () => {
    const source = await openParquetSource(file, { batchRows: 50 });
    const before = openFds();
    let seen = 0;
    for await (const batch of source.batches()) {
      seen += batch.rows.length;
      expect(openFds()).toBe(before + 1);
      if (seen >= 100) break;
    }
    expect(seen).toBe(100);
    expect(openFds()).toBe(before);
  });

  it('stops with the abort reason and closes the file when the signal aborts', async () => {
    const source = await openParquetSource(file, { batchRows: 50 });
    const before = openFds();
    const controller = new AbortController();
    const err = await failure(async () => {
      for await (const _ of source.batches(controller.signal)) controller.abort();
    });
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(openFds()).toBe(before);
  });

  it('reads a file piped to stdin as -, and removes the spooled copy on close', async () => {
    const before = readdirSync(os.tmpdir()).filter((n) => n.startsWith('mstrpush-stdin-')).length;
    const source = await openParquetSource('-', { stdin: Readable.from([readFileSync(file)]) });
    expect(source.displayName).toBe('stdin');
    expect((await readAll(source)).rows).toEqual(expectedRows(columns));
    expect(readdirSync(os.tmpdir()).filter((n) => n.startsWith('mstrpush-stdin-')).length).toBe(before + 1);
    await source.close();
    await source.close();
    expect(readdirSync(os.tmpdir()).filter((n) => n.startsWith('mstrpush-stdin-')).length).toBe(before);
  });
});

describe('openParquetSource with exclude', () => {
  const columns = generateTypeMatrix(20, 3).slice(0, 4);
  const file = path.join(dir, 'exclude.parquet');
  beforeAll(() => writeParquetFile(file, columns));

  it('leaves excluded columns out of columns, types and cells', async () => {
    const source = await openParquetSource(file, { exclude: ['int16', 'uint8'] });
    expect(source.columns).toEqual(['int8', 'int32']);
    expect(source.declaredTypes).toEqual(['INTEGER', 'INTEGER']);
    expect(source.fileColumns).toEqual(['int8', 'int16', 'int32', 'uint8']);
    const { rows } = await readAll(source);
    expect(rows).toEqual(expectedRows([columns[0]!, columns[2]!]));
  });

  it('refuses a name that is no column, listing the columns', async () => {
    const err = await failure(() => openParquetSource(file, { exclude: ['int8', 'nope'] }));
    expect(err).toMatchObject({ code: 'USAGE' });
    expect(err.message).toContain('"nope"');
    expect(err.hint).toBe('its columns: int8, int16, int32, uint8');
  });

  it('ignores names of other inputs when asked to', async () => {
    const source = await openParquetSource(file, { exclude: ['int8', 'nope'], unknownExclude: 'ignore' });
    expect(source.columns).toEqual(['int16', 'int32', 'uint8']);
  });

  it('refuses to exclude every column', async () => {
    const err = await failure(() => openParquetSource(file, { exclude: ['int8', 'int16', 'int32', 'uint8'] }));
    expect(err).toMatchObject({ code: 'USAGE' });
  });
});

describe('openParquetSource on columns it cannot load', () => {
  const file = path.join(dir, 'binary.parquet');
  beforeAll(() =>
    writeParquetFile(file, [
      { element: { name: 'id', type: 'INT32' }, data: [1, 2, 3] },
      { element: { name: 'payload', type: 'BYTE_ARRAY' }, data: [new Uint8Array([104, 105]), null, new Uint8Array([0xff, 0xfe])] },
      { element: { name: 'raw key', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 3 }, data: [new Uint8Array(3), null, new Uint8Array(3)] },
    ]),
  );

  it('refuses BINARY columns by name, with --exclude and --binary-as-string as the ways out', async () => {
    const err = await failure(() => openParquetSource(file));
    expect(err).toMatchObject({ code: 'INPUT_SCHEMA' });
    expect(err.message).toBe(`${file}: cannot load columns "payload" (BINARY), "raw key" (FIXED_LEN_BYTE_ARRAY(3) (binary)): raw bytes have no wire type`);
    expect(err.hint).toBe('leave them out with --exclude payload --exclude "raw key"; or, if a BINARY column holds text, read it as UTF-8 with --binary-as-string');
  });

  it('reads BINARY as text when asked, and names the row of bytes that are not UTF-8', async () => {
    const source = await openParquetSource(file, { binaryAsString: true, exclude: ['raw key'] });
    expect(source.declaredTypes).toEqual(['INTEGER', 'STRING']);
    const err = await failure(() => readAll(source));
    expect(err).toMatchObject({ code: 'INPUT_VALUE', location: { file, line: 3, column: 'payload' } });
    expect(err.message).toBe(`${file}:3: column "payload": the bytes are not valid UTF-8 text`);
  });

  it('refuses nested columns by name and kind', async () => {
    const nested = path.join(dir, 'nested.parquet');
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    writeFileSync(
      nested,
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'id', data: [1, 2] },
            { name: 'tags', data: [['a'], ['b', 'c']] },
            { name: 'point', data: [{ x: 1, y: 2 }, { x: 3, y: 4 }] },
          ],
          schema: [
            { name: 'root', num_children: 3 },
            { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
            { name: 'tags', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
            { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
            { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
            { name: 'point', repetition_type: 'OPTIONAL', num_children: 2 },
            { name: 'x', type: 'INT32', repetition_type: 'REQUIRED' },
            { name: 'y', type: 'INT32', repetition_type: 'REQUIRED' },
          ],
        }),
      ),
    );
    const err = await failure(() => openParquetSource(nested));
    expect(err).toMatchObject({ code: 'INPUT_SCHEMA', location: { file: nested, column: 'tags' } });
    expect(err.message).toBe(`${nested}: cannot load columns "tags" (LIST), "point" (STRUCT): nested columns (lists, maps, structs) do not fit a dataset table`);
    expect(err.hint).toBe('leave them out with --exclude tags --exclude point');
    const source = await openParquetSource(nested, { exclude: ['tags', 'point'] });
    expect((await readAll(source)).rows).toEqual([['1'], ['2']]);
  });
});

describe('openParquetSource on NaN and infinite values', () => {
  const file = path.join(dir, 'nan.parquet');
  beforeAll(() =>
    writeParquetFile(file, [
      { element: { name: 'x', type: 'DOUBLE' }, data: [1.5, Number.NaN, Infinity, null, -Infinity] },
      { element: { name: 'y', type: 'FLOAT' }, data: [Number.NaN, 2, 3, 4, 5] },
    ]),
  );

  it('sends them as NULL and warns once per column after the first pass', async () => {
    const warnings: string[] = [];
    const source = await openParquetSource(file, { onWarning: (m) => warnings.push(m) });
    expect((await readAll(source)).rows).toEqual([
      ['1.5', null],
      [null, '2'],
      [null, '3'],
      [null, '4'],
      [null, '5'],
    ]);
    expect(warnings).toEqual([
      `${file}: column "x": 3 NaN or infinite values were read as NULL (no wire type holds them)`,
      `${file}: column "y": 1 NaN or infinite value was read as NULL (no wire type holds them)`,
    ]);
    await readAll(source);
    expect(warnings).toHaveLength(2);
  });
});

describe('openParquetSource on files that are not readable Parquet', () => {
  const good = path.join(dir, 'good.parquet');
  beforeAll(() => writeParquetFile(good, generateTypeMatrix(500, 11).slice(0, 8), { rowGroupSize: 200 }));

  it('reports a missing file as INPUT_NOT_FOUND', async () => {
    const err = await failure(() => openParquetSource(path.join(dir, 'missing.parquet')));
    expect(err).toMatchObject({ code: 'INPUT_NOT_FOUND' });
  });

  it('reports a directory as INPUT_READ', async () => {
    const sub = path.join(dir, 'folder.parquet');
    mkdirSync(sub);
    expect(await failure(() => openParquetSource(sub))).toMatchObject({ code: 'INPUT_READ' });
  });

  it('reports a CSV file as not Parquet', async () => {
    const csv = path.join(dir, 'really.csv.parquet');
    writeFileSync(csv, 'a,b\n1,2\n');
    const err = await failure(() => openParquetSource(csv));
    expect(err).toMatchObject({ code: 'INPUT_READ', location: { file: csv } });
    expect(err.message).toBe(`${csv}: not a Parquet file (file invalid (footer != PAR1))`);
  });

  it('reports an empty file as not Parquet', async () => {
    const empty = path.join(dir, 'empty.parquet');
    closeSync(openSync(empty, 'w'));
    expect(await failure(() => openParquetSource(empty))).toMatchObject({ code: 'INPUT_READ' });
  });

  it('reports an encrypted file as such', async () => {
    const encrypted = path.join(dir, 'encrypted.parquet');
    writeFileSync(encrypted, Buffer.concat([Buffer.from('PARE'), Buffer.alloc(64), Buffer.from('PARE')]));
    const err = await failure(() => openParquetSource(encrypted));
    expect(err).toMatchObject({ code: 'INPUT_READ' });
    expect(err.message).toContain('encrypted Parquet file');
  });

  it('reports a file cut short as INPUT_READ', async () => {
    const cut = path.join(dir, 'cut.parquet');
    const bytes = readFileSync(good);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    expect(await failure(() => openParquetSource(cut))).toMatchObject({ code: 'INPUT_READ' });
  });

  it('reports damaged data pages as INPUT_READ, never as a crash or as wrong rows', async () => {
    const bytes = readFileSync(good);
    let refused = 0;
    // Overwrite a stretch of data pages at seeded offsets, keeping the footer intact.
    const footer = bytes.readUInt32LE(bytes.length - 8) + 8;
    for (let k = 0; k < 12; k++) {
      const damaged = Buffer.from(bytes);
      const at = 4 + ((k * 7919) % (bytes.length - footer - 40));
      damaged.fill(k % 2 === 0 ? 0xff : 0x00, at, at + 24);
      const file = path.join(dir, `damaged-${k}.parquet`);
      writeFileSync(file, damaged);
      try {
        const source = await openParquetSource(file);
        const { rows } = await readAll(source);
        expect(rows).toHaveLength(500);
      } catch (err) {
        expect(err).toMatchObject({ code: expect.stringMatching(/^INPUT_(READ|VALUE)$/), location: { file } });
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});

describe('ParquetSourceOptions', () => {
  it('are all optional', async () => {
    const options: ParquetSourceOptions = {};
    const file = path.join(dir, 'options.parquet');
    writeParquetFile(file, generateTypeMatrix(3, 1).slice(0, 1));
    expect((await openParquetSource(file, options)).columns).toEqual(['int8']);
  });
});
