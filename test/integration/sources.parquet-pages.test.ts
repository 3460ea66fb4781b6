// The page-by-page column reader (parquet-pages.ts) against the library's own scan, which it
// replaces in the upload and check passes: the same values for any rows of any flat column, on
// the conformance corpus and on files written here with small pages, NULLs and dictionaries.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetMetadata, parquetScan, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { getTreePath, isFlatColumn } from 'hyparquet/src/schema.js';
import type { ColumnDecoder, DecodedArray } from 'hyparquet/src/types.js';
import { PageScratch, readFlatColumnRows } from '../../src/sources/parquet-pages.js';
// What parquet.ts reads with: stored forms kept, Node's zlib for GZIP and BROTLI.
import { COMPRESSORS as compressors, RAW_PARSERS as RAW } from '../../src/sources/parquet.js';
import { corpusDataDir } from '../helpers/parquet-corpus.js';
import { generateTypeMatrix, writeParquetFile } from '../helpers/parquet-files.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mstrpush-parquet-pages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bufferOf(bytes: Uint8Array): AsyncBuffer {
  return { byteLength: bytes.length, slice: (start, end) => bytes.slice(start, end).buffer };
}

/** Each flat column of each row group of `file`, with both readers for rows [from, end) of it. */
function columnsOf(file: string): { label: string; rows: number; library: (from: number, end: number) => Promise<unknown>; pages: (from: number, end: number) => unknown }[] {
  const bytes = new Uint8Array(readFileSync(file));
  const metadata: FileMetaData = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const tree = parquetSchema(metadata);
  const scratch = new PageScratch();
  const out = [];
  for (const [g, group] of metadata.row_groups.entries()) {
    const rows = Number(group.num_rows);
    for (const chunk of group.columns) {
      const meta = chunk.meta_data!;
      if (meta.path_in_schema.length !== 1) continue;
      const schemaPath = getTreePath(tree, meta.path_in_schema);
      if (!isFlatColumn(schemaPath)) continue;
      const column = meta.path_in_schema[0]!;
      const decoder: ColumnDecoder = { pathInSchema: [column], element: schemaPath.at(-1)!.element, schemaPath, parsers: RAW, compressors, utf8: false, ...meta };
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const chunkBytes = bytes.slice(start, start + Number(meta.total_compressed_size));
      out.push({
        label: `${path.basename(file)} group ${g + 1} column ${column}`,
        rows,
        library: async (from: number, end: number): Promise<unknown> => {
          const only: FileMetaData = { ...metadata, row_groups: [group], num_rows: BigInt(rows) };
          const scan = await parquetScan({ file: bufferOf(bytes), metadata: only, columns: [column], compressors, parsers: RAW, utf8: false, geoparquet: false, useOffsetIndex: false });
          return plain(await scan.readColumn({ column, rowStart: from, rowEnd: end }));
        },
        pages: (from: number, end: number): unknown => plain(readFlatColumnRows(chunkBytes, decoder, from, end, scratch)),
      });
    }
  }
  return out;
}

/** The values as a plain array, so typed and untyped arrays of the same values compare equal. */
function plain(values: DecodedArray): unknown[] {
  return Array.from(values as ArrayLike<unknown>);
}

/** Row ranges that cross page and window edges: all, the ends, and short runs along the group. */
function rangesOf(rows: number): [number, number][] {
  const ranges: [number, number][] = [[0, rows], [0, Math.min(1, rows)], [Math.max(0, rows - 1), rows]];
  for (const step of [7, 997]) {
    for (let from = 1; from < rows; from += Math.max(step, Math.floor(rows / 5))) ranges.push([from, Math.min(rows, from + step)]);
  }
  return ranges;
}

async function expectSameValues(file: string): Promise<number> {
  let compared = 0;
  for (const column of columnsOf(file)) {
    for (const [from, end] of rangesOf(column.rows)) {
      let expected: unknown;
      let expectedError: string | undefined;
      try {
        expected = await column.library(from, end);
      } catch (err) {
        expectedError = (err as Error).message;
      }
      let actual: unknown;
      let actualError: string | undefined;
      try {
        actual = column.pages(from, end);
      } catch (err) {
        actualError = (err as Error).message;
      }
      expect({ at: `${column.label} rows ${from}-${end}`, values: actual, error: actualError }).toEqual({ at: `${column.label} rows ${from}-${end}`, values: expected, error: expectedError });
      compared++;
    }
  }
  return compared;
}

describe('readFlatColumnRows', () => {
  it('reads what the library reads, for any rows of every flat column of the corpus', async () => {
    let compared = 0;
    const files = readdirSync(corpusDataDir).filter((name) => name.endsWith('.parquet'));
    for (const name of files) {
      try {
        parquetMetadata(new Uint8Array(readFileSync(path.join(corpusDataDir, name))).buffer);
      } catch {
        continue;
      }
      compared += await expectSameValues(path.join(corpusDataDir, name));
    }
    // Enough of the corpus took part for the comparison to mean something.
    expect(compared).toBeGreaterThan(1000);
  }, 120_000);

  it.each([
    ['SNAPPY', 512],
    ['UNCOMPRESSED', 64],
    ['GZIP', 4096],
  ] as const)('reads what the library reads on a file of NULLs and every type, %s, %i-byte pages', async (codec, pageSize) => {
    const file = path.join(dir, `matrix-${codec}-${pageSize}.parquet`);
    const columns = generateTypeMatrix(3000, 41);
    writeParquetFile(file, columns.map((c) => ({ element: c.element, data: c.data })), { codec, pageSize, rowGroupSize: 1100 });
    // Several pages per column chunk, so ranges start and end inside pages and across them.
    const pagesPerChunk = parquetMetadata(new Uint8Array(readFileSync(file)).buffer).row_groups[0]!.columns.map((c) => Number(c.meta_data!.total_uncompressed_size) / pageSize);
    expect(Math.max(...pagesPerChunk)).toBeGreaterThan(3);
    expect(await expectSameValues(file)).toBeGreaterThan(100);
  });

  it('gives the rows that exist when the chunk ends before the rows asked for', () => {
    const file = path.join(dir, 'short.parquet');
    writeParquetFile(file, [{ element: { name: 'n', type: 'INT32' }, data: [1, null, 3, 4, 5] }], { pageSize: 8 });
    const [column] = columnsOf(file);
    expect(column!.pages(3, 9)).toEqual([4, 5]);
    expect(column!.pages(1, 3)).toEqual([null, 3]);
  });

  it('converts what the library converts (an unsigned integer stored as -1), and hands over stored dates', () => {
    const file = path.join(dir, 'converted.parquet');
    writeParquetFile(file, [
      { element: { name: 'u', type: 'INT32', converted_type: 'UINT_32' }, data: [4294967295, 7, null] },
      { element: { name: 'd', type: 'INT32', converted_type: 'DATE' }, data: [19000, null, -1] },
    ]);
    const [unsigned, date] = columnsOf(file);
    expect(unsigned!.pages(0, 3)).toEqual([4294967295, 7, null]);
    expect(date!.pages(0, 3)).toEqual([19000, null, -1]);
  });
});
