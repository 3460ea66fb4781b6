import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { encodeRowBatches } from '../../src/chunker/encode-rows.js';
import { createSchemaInferrer } from '../../src/schema/infer.js';
import type { WireType } from '../../src/schema/types.js';
import { DEFAULT_NULL_TOKENS } from '../../src/schema/values.js';
import { openCsvSource } from '../../src/sources/csv.js';
import type { CsvTableSource } from '../../src/sources/csv.js';
import type { EncodedBatch } from '../../src/sources/types.js';
import { repoRoot, sharedDir } from '../helpers/cli.js';
import { createRandom as seeded } from '../helpers/seeded-csv.js';

// The byte path (scanInto, encodedBatches) must give exactly what the string path gives: the same
// schema, counts and examples, the same wire bytes, the same errors. These tests run both paths
// over the same files and compare.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mstrpush-csv-fast-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const CELL_POOL = [
  '', 'NULL', 'NA', '0', '-7', '42', '2147483648', '9223372036854775808', '00012', '1.5', '-0.25', '1e5',
  '123456789.123456789', 'true', 'FALSE', '2024-02-29', '2023-02-29', '2024-02-29T10:11:12', '2024-02-29 10:11:12.500',
  '2024-02-29T10:11:12Z', '2024-02-29T10:11:12+02:00', '10:11', '10:11:12.000', 'plain', 'two words', 'é ü 東京',
  'tab\there', 'back\\slash', 'ctl\u0001x', '\u007f', '😀',
];

/** A cell as CSV text: sometimes quoted, with doubled quotes, delimiters and line breaks inside. */
function csvCell(random: () => number, lineBreak: string): string {
  const r = random();
  let text = CELL_POOL[Math.floor(random() * CELL_POOL.length)]!;
  if (r < 0.08) text = `say ""hi"", ${text}`;
  else if (r < 0.12) text = `two${lineBreak}lines ${text}`;
  else if (r < 0.16) text = `a,b ${text}`;
  const mustQuote = /[",\r\n]/.test(text.replaceAll('""', ''));
  return mustQuote || random() < 0.1 ? `"${text}"` : text;
}

function writeCsv(name: string, rows: number, seed: number, options: { lineBreak?: string; width?: number; invalidUtf8?: boolean } = {}): string {
  const random = seeded(seed);
  const lineBreak = options.lineBreak ?? '\n';
  const width = options.width ?? 6;
  const parts: Buffer[] = [Buffer.from(Array.from({ length: width }, (_, c) => `col${c}`).join(',') + lineBreak)];
  for (let r = 0; r < rows; r++) {
    // Columns keep to one kind of value mostly, so that types other than STRING get inferred.
    const cells = Array.from({ length: width }, (_, c) => {
      if (c === 0) return String(r * 7 - 1000);
      if (c === 1) return random() < 0.1 ? '' : (random() * 1000 - 500).toFixed(Math.floor(random() * 4));
      if (c === 2) return random() < 0.05 ? 'NA' : `2024-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}`;
      return csvCell(random, lineBreak);
    });
    parts.push(Buffer.from(cells.join(',') + lineBreak));
    if (options.invalidUtf8 && r % 97 === 5) parts.push(Buffer.from([0x22, 0xff, 0xc3, 0x28, 0x22, ...Buffer.from(`,1,2024-01-01${',x'.repeat(width - 3)}${lineBreak}`)]));
    if (r % 250 === 3) parts.push(Buffer.from(lineBreak));
  }
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

async function slowScan(source: CsvTableSource, typeOverrides = new Map<string, WireType>()) {
  const inferrer = createSchemaInferrer(source.columns, { nullTokens: DEFAULT_NULL_TOKENS, typeOverrides, file: source.displayName });
  for await (const batch of source.batches()) inferrer.add(batch);
  return { columns: inferrer.finish(), rows: inferrer.rowCount };
}

async function fastScan(source: CsvTableSource, typeOverrides = new Map<string, WireType>()) {
  const inferrer = createSchemaInferrer(source.columns, { nullTokens: DEFAULT_NULL_TOKENS, typeOverrides, file: source.displayName });
  const progress: number[] = [];
  await source.scanInto!(inferrer, { nullTokens: DEFAULT_NULL_TOKENS, onProgress: (bytes) => progress.push(bytes) }, undefined);
  return { columns: inferrer.finish(), rows: inferrer.rowCount, progress };
}

async function joined(batches: AsyncIterable<EncodedBatch>): Promise<{ text: string; rows: number; lines: number[] }> {
  const parts: Buffer[] = [];
  let rows = 0;
  const lines: number[] = [];
  for await (const batch of batches) {
    if (batch.rows === 0) continue;
    expect(batch.rowEnds[batch.rows - 1]).toBe(batch.data.length);
    parts.push(Buffer.from(batch.data));
    rows += batch.rows;
    lines.push(...batch.lines);
  }
  return { text: `[${Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from(','), p]))).toString('utf8')}]`, rows, lines };
}

async function compareEncodings(source: CsvTableSource, types: WireType[], skipRows = 0) {
  const columns = source.columns.map((name, i) => ({ name, type: types[i]! }));
  const fast = await joined(source.encodedBatches!({ types, nullTokens: DEFAULT_NULL_TOKENS, skipRows }));
  const slow = await joined(encodeRowBatches(source.batches(), columns, { nullTokens: DEFAULT_NULL_TOKENS, file: source.displayName, skipRows }));
  expect(fast.rows).toBe(slow.rows);
  expect(fast.lines).toEqual(slow.lines);
  expect(fast.text).toBe(slow.text);
  return fast;
}

async function outcome<T>(work: () => Promise<T>): Promise<T | { code: string; message: string; location: unknown }> {
  try {
    return await work();
  } catch (err) {
    const e = err as { code: string; message: string; location: unknown };
    return { code: e.code, message: e.message, location: e.location };
  }
}

describe('CSV byte path', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('infers the same schema, counts and examples as the string path (%s line breaks)', async (_, lineBreak) => {
    const file = writeCsv(`scan-${lineBreak.length}-${lineBreak.charCodeAt(0)}.csv`, 30_000, 7, { lineBreak });
    const source = await openCsvSource(file, { header: true });
    const fast = await fastScan(source);
    const slow = await slowScan(source);
    expect(fast.rows).toBe(30_000);
    expect(fast.columns).toEqual(slow.columns);
    expect(fast.columns.map((c) => c.type).slice(0, 3)).toEqual(['INTEGER', 'DOUBLE', 'DATE']);
    expect(fast.progress.at(-1)).toBe(source.totalBytes);
    await source.close();
  });

  it('encodes every row to the same bytes as the serializer, across read chunks, for inferred and forced types', async () => {
    const file = writeCsv('encode.csv', 40_000, 11, { lineBreak: '\r\n', invalidUtf8: true });
    const source = await openCsvSource(file, { header: true });
    const scan = await slowScan(source);
    const inferred = scan.columns.map((c) => c.type);
    const encoded = await compareEncodings(source, inferred);
    expect(encoded.rows).toBe(scan.rows);
    expect(encoded.text).toContain('\ufffd');
    await compareEncodings(source, inferred.map(() => 'STRING'));
    await compareEncodings(source, inferred, 12_345);
    await source.close();
  });

  it('copies the cells its own scan proved wire-ready, to the same bytes', async () => {
    const file = writeCsv('trusted.csv', 20_000, 23);
    const source = await openCsvSource(file, { header: true });
    const scan = await fastScan(source);
    const types = scan.columns.map((c) => c.type);
    expect(types.slice(0, 3)).toEqual(['INTEGER', 'DOUBLE', 'DATE']);
    await compareEncodings(source, types);
    await compareEncodings(source, types.map((t) => (t === 'INTEGER' ? 'BIGDECIMAL' : t)));
    await source.close();
  });

  it('stops with an error instead of trusting its scan when the file changed after it', async () => {
    const file = writeCsv('changed.csv', 20_000, 29);
    const source = await openCsvSource(file, { header: true });
    const scan = await fastScan(source);
    const types = scan.columns.map((c) => c.type);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n-?\d+,/, '\nabc,'));
    const result = await outcome(() => joined(source.encodedBatches!({ types, nullTokens: DEFAULT_NULL_TOKENS })));
    expect(result).toMatchObject({ code: 'INPUT_VALUE', location: { column: 'col0', value: 'abc' } });
    await source.close();
  });

  it('converts cells that are valid but not in wire form, as the serializer does', async () => {
    const lines = ['when,flag,t,n'];
    for (let i = 0; i < 500; i++) lines.push(`2024-02-29 10:11:${String(i % 60).padStart(2, '0')}.500,${i % 2 ? 'TRUE' : 'false'},10:11:12.000,${i}`);
    lines.push('2024-03-01T00:30:00+01:00,False,10:11,2147483647');
    lines.push('2024-03-01,true,23:59:59,-2147483648');
    const file = path.join(dir, 'normalize.csv');
    writeFileSync(file, lines.join('\n'));
    const source = await openCsvSource(file, { header: true });
    const encoded = await compareEncodings(source, ['DATETIME', 'BOOL', 'TIME', 'INTEGER']);
    expect(encoded.text).toContain('["2024-02-29T23:30:00",false,"10:11:00",2147483647]');
    expect(encoded.text).toContain('["2024-03-01T00:00:00",true,"23:59:59",-2147483648]');
    await source.close();
  });

  // Good rows first, past the part read when the file is opened, so the pass itself meets the fault.
  const goodRows = 'a,b\n' + '1,2\n'.repeat(40_000);
  it.each([
    ['a row with too many fields', '3,4,5\n6,7\n'],
    ['a row with too few fields', '3\n'],
    ['an unterminated quote', '"3,4\n'],
    ['text after a closing quote', '"3"x,4\n'],
  ])('gives the string path\'s exact error for %s, in both passes', async (name, text) => {
    const file = path.join(dir, `bad-${name.replaceAll(' ', '-')}.csv`);
    writeFileSync(file, goodRows + text);
    const source = await openCsvSource(file, { header: true });
    const slow = await outcome(() => slowScan(source));
    expect(slow).toMatchObject({ code: 'INPUT_PARSE' });
    expect(await outcome(() => fastScan(source))).toEqual(slow);
    const types: WireType[] = ['STRING', 'STRING'];
    const slowEncode = await outcome(() => joined(encodeRowBatches(source.batches(), [{ name: 'a', type: 'STRING' }, { name: 'b', type: 'STRING' }], { nullTokens: DEFAULT_NULL_TOKENS, file: source.displayName })));
    expect(await outcome(() => joined(source.encodedBatches!({ types, nullTokens: DEFAULT_NULL_TOKENS })))).toEqual(slowEncode);
    await source.close();
  });

  it('stops on the same bad value with the same error when a column has a forced type', async () => {
    const file = path.join(dir, 'forced.csv');
    writeFileSync(file, 'id,amount\n1,2.5\n2,"3,5"\n3,4\n');
    const source = await openCsvSource(file, { header: true });
    const overrides = new Map<string, WireType>([['amount', 'DOUBLE']]);
    const slow = await outcome(() => slowScan(source, overrides));
    expect(slow).toMatchObject({ code: 'INPUT_VALUE', location: { line: 3, column: 'amount', value: '3,5' } });
    expect(await outcome(() => fastScan(source, overrides))).toEqual(slow);
    const slowEncode = await outcome(() => joined(encodeRowBatches(source.batches(), [{ name: 'id', type: 'INTEGER' }, { name: 'amount', type: 'DOUBLE' }], { nullTokens: DEFAULT_NULL_TOKENS, file: source.displayName })));
    expect(slowEncode).toMatchObject({ code: 'INPUT_VALUE' });
    expect(await outcome(() => joined(source.encodedBatches!({ types: ['INTEGER', 'DOUBLE'], nullTokens: DEFAULT_NULL_TOKENS })))).toEqual(slowEncode);
    await source.close();
  });

  it('agrees with the string path on every committed CSV fixture and the csv-spectrum corpus', async () => {
    const files = [
      ...readdirSync(path.join(repoRoot, 'fixtures', 'csv')).filter((f) => f.endsWith('.csv')).map((f) => path.join(repoRoot, 'fixtures', 'csv', f)),
      ...readdirSync(path.join(sharedDir, 'corpus', 'csv-spectrum', 'csvs')).map((f) => path.join(sharedDir, 'corpus', 'csv-spectrum', 'csvs', f)),
    ];
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const opened = await outcome(() => openCsvSource(file, { header: true }));
      if ('code' in opened) continue;
      const source = opened as CsvTableSource;
      const slow = await outcome(() => slowScan(source));
      expect([file, await outcome(() => fastScan(source).then(({ columns, rows }) => ({ columns, rows })))]).toEqual([file, slow]);
      if (!('code' in slow)) await compareEncodings(source, slow.columns.map((c) => c.type));
      await source.close();
    }
  });
});
