import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { encodeRowBatches } from '../../src/chunker/encode-rows.js';
import { createSchemaInferrer } from '../../src/schema/infer.js';
import type { WireType } from '../../src/schema/types.js';
import { DEFAULT_NULL_TOKENS } from '../../src/schema/values.js';
import { openCsvSource } from '../../src/sources/csv.js';
import type { CsvTableSource } from '../../src/sources/csv.js';
import { CsvKernel, useCsvKernel } from '../../src/sources/csv-kernel.js';
import type { EncodedBatch } from '../../src/sources/types.js';
import { repoRoot, sharedDir } from '../helpers/cli.js';
import { createRandom as seeded } from '../helpers/seeded-csv.js';

// The byte path (scanInto, encodedBatches) must give exactly what the string path gives: the same
// schema, counts and examples, the same wire bytes, the same errors. These tests run both paths
// over the same files and compare, once with the WebAssembly kernel and once with the JS byte
// path that stands in when the kernel is not there.

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
    for (const line of batch.lines) lines.push(line);
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

describe.each([
  ['WebAssembly kernel', true],
  ['JS byte path', false],
])('CSV byte path, %s', (_, kernel) => {
  beforeAll(() => useCsvKernel(kernel));
  afterAll(() => useCsvKernel(true));

  it(`${kernel ? 'uses' : 'does not use'} the kernel`, () => {
    expect(CsvKernel.create({ delimiter: ',', quote: '"' }, 3, DEFAULT_NULL_TOKENS, 1 << 20) !== undefined).toBe(kernel);
  });

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
  it.each([
    ['semicolons and single quotes', ';', "'"],
    ['tabs and no quoting', '\t', null],
  ])('reads %s exactly as the string path', async (name, delimiter, quote) => {
    const random = seeded(41);
    const q = quote ?? '';
    const lines = [['id', 'amount', 'day', 'at', 'note'].join(delimiter)];
    for (let r = 0; r < 20_000; r++) {
      const note = quote === null ? `n${r} é` : random() < 0.3 ? `${q}it${q}${q}s ${delimiter} ${r}${q}` : `plain ${r}`;
      const at = `2024-03-0${1 + (r % 9)}T10:11:12${['', '.5', '.120', '.000'][r % 4]}`;
      lines.push([String(r), (random() * 100).toFixed(2), `2024-01-${String(1 + (r % 28)).padStart(2, '0')}`, at, note].join(delimiter));
    }
    const file = path.join(dir, `dialect-${name.replaceAll(' ', '-')}.csv`);
    writeFileSync(file, lines.join('\n'));
    const source = await openCsvSource(file, { header: true, delimiter, quote });
    const fast = await fastScan(source);
    const slow = await slowScan(source);
    expect(fast.columns).toEqual(slow.columns);
    expect(fast.columns.map((c) => c.type)).toEqual(['INTEGER', 'DOUBLE', 'DATE', 'DATETIME', 'STRING']);
    const encoded = await compareEncodings(source, fast.columns.map((c) => c.type));
    expect(encoded.text).toContain('"2024-03-03T10:11:12.12"');
    expect(encoded.text).toContain('"2024-03-04T10:11:12"');
    await source.close();
  });

  it('takes a read chunk holding more rows than one call of the kernel writes', async () => {
    const file = path.join(dir, 'tiny-rows.csv');
    writeFileSync(file, 'n\n' + Array.from({ length: 300_000 }, (_, i) => (i % 7 === 0 ? 'NA' : String(i % 10))).join('\n'));
    const source = await openCsvSource(file, { header: true });
    const fast = await fastScan(source);
    expect(fast.rows).toBe(300_000);
    expect(fast.columns).toEqual((await slowScan(source)).columns);
    const encoded = await compareEncodings(source, ['INTEGER']);
    expect(encoded.rows).toBe(300_000);
    await compareEncodings(source, ['INTEGER'], 123_457);
    await source.close();
  });

  it('hands a record longer than the kernel holds to the string path, with the same results', async () => {
    const long = 'x'.repeat(9 * 1024 * 1024);
    const file = path.join(dir, 'long-record.csv');
    writeFileSync(file, `id,text\n1,short\n2,"${long}"\n3,after\n`);
    const source = await openCsvSource(file, { header: true });
    const fast = await fastScan(source);
    expect(fast.rows).toBe(3);
    expect(fast.columns).toEqual((await slowScan(source)).columns);
    const encoded = await compareEncodings(source, ['INTEGER', 'STRING']);
    expect(encoded.text.length).toBeGreaterThan(long.length);
    await source.close();
  });

  it.each([
    ['no line break at the end', 'a,b\n1,x\n2,y'],
    ['a delimiter at the very end', 'a,b\n1,x\n2,'],
    ['a CR at the very end', 'a,b\r1,x\r2,y\r'],
    ['empty lines between and after records', 'a,b\n\n1,x\r\n\r\n\n2,y\n\n\n'],
    ['a quoted field closing the input', 'a,b\n1,x\n2,"y ""z"""'],
    ['control characters and backslashes', 'a,b\n1,"tab\there\u0001 \\\\ end"\n2,\u007f'],
  ])('agrees with the string path on %s', async (name, text) => {
    const file = path.join(dir, `edge-${name.replaceAll(' ', '-')}.csv`);
    writeFileSync(file, text);
    const source = await openCsvSource(file, { header: true });
    const slow = await slowScan(source);
    const fast = await fastScan(source);
    expect(fast.columns).toEqual(slow.columns);
    expect(fast.rows).toBe(slow.rows);
    await compareEncodings(source, slow.columns.map((c) => c.type));
    await compareEncodings(source, slow.columns.map(() => 'STRING'));
    await source.close();
  });

  it('uses the configured null tokens and stops at the first bad value of a forced type, far into the file', async () => {
    const lines = ['id,score,when'];
    for (let r = 0; r < 50_000; r++) lines.push(`${r},${r % 11 === 0 ? 'n/a' : r % 13 === 0 ? '-' : String(r % 100)},2024-05-${String(1 + (r % 30)).padStart(2, '0')}`);
    lines.splice(45_001, 0, '44999,12,2024-02-30');
    const file = path.join(dir, 'null-tokens.csv');
    writeFileSync(file, lines.join('\n'));
    const nullTokens = ['', '-', 'n/a'];
    const source = await openCsvSource(file, { header: true });
    const scan = async (overrides: Map<string, WireType>, fast: boolean) => {
      const inferrer = createSchemaInferrer(source.columns, { nullTokens, typeOverrides: overrides, file: source.displayName });
      if (fast) await source.scanInto!(inferrer, { nullTokens, onProgress: () => {} }, undefined);
      else for await (const batch of source.batches()) inferrer.add(batch);
      return { columns: inferrer.finish(), rows: inferrer.rowCount };
    };
    const inferred = await scan(new Map(), true);
    expect(inferred).toEqual(await scan(new Map(), false));
    expect(inferred.columns.map((c) => [c.type, c.nullCount])).toEqual([['INTEGER', 0], ['INTEGER', 4546 + 3847 - 350], ['STRING', 0]]);
    const forced = new Map<string, WireType>([['when', 'DATE']]);
    const failure = await outcome(() => scan(forced, true));
    expect(failure).toMatchObject({ code: 'INPUT_VALUE', location: { line: 45_002, column: 'when', value: '2024-02-30' } });
    expect(failure).toEqual(await outcome(() => scan(forced, false)));
    const types: WireType[] = ['INTEGER', 'INTEGER', 'DATE'];
    const columns = source.columns.map((name, i) => ({ name, type: types[i]! }));
    const slowEncode = await outcome(() => joined(encodeRowBatches(source.batches(), columns, { nullTokens, file: source.displayName })));
    expect(slowEncode).toMatchObject({ code: 'INPUT_VALUE', location: { line: 45_002 } });
    expect(await outcome(() => joined(source.encodedBatches!({ types, nullTokens })))).toEqual(slowEncode);
    await source.close();
  });
  it('reads integers of 10 to 16 digits with the ranges of the string path', async () => {
    const edges = ['2147483647', '-2147483648', '2147483648', '-2147483649', '9999999999', '999999999999999', '1000000000000000', '1234567890123456', '-1234567890123450', '12345678901234567'];
    const lines = ['small,edge,big'];
    for (let r = 0; r < 30_000; r++) {
      lines.push(`${r % 2 ? '' : '-'}${1_000_000_000 + (r % 1_000_000)},${edges[r % edges.length]},${String(r * 7919).padStart(12, '9')}`);
    }
    const file = path.join(dir, 'wide-integers.csv');
    writeFileSync(file, lines.join('\n'));
    const source = await openCsvSource(file, { header: true });
    const fast = await fastScan(source);
    const slow = await slowScan(source);
    expect(fast.columns).toEqual(slow.columns);
    expect(fast.columns.map((c) => c.type)).toEqual(['INTEGER', 'BIGINTEGER', 'BIGINTEGER']);
    await compareEncodings(source, fast.columns.map((c) => c.type));
    await compareEncodings(source, ['BIGINTEGER', 'DOUBLE', 'DOUBLE']);
    await source.close();
  });
  it('reads times, datetimes and booleans in every spelling the string path accepts', async () => {
    const random = seeded(57);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const clocks = ['10:11', '10:11:12', '23:59:59.5', '00:00:00.000', '07:08:09.120', '24:00', '10:61:00', '10:11:12.', '10:11:12.1234567890', '1:02:03'];
    const separators = ['T', 't', ' ', 'x'];
    const bools = ['true', 'false', 'TRUE', 'False', 'tRuE', 'yes', 'truth'];
    const lines = ['at,clock,flag,day'];
    for (let r = 0; r < 20_000; r++) {
      const day = `20${String(10 + (r % 20))}-0${1 + (r % 9)}-${String(1 + (r % 28)).padStart(2, '0')}`;
      const at = random() < 0.1 ? day : `${day}${random() < 0.97 ? pick(separators.slice(0, 3)) : 'x'}${random() < 0.98 ? pick(clocks.slice(0, 5)) : pick(clocks)}`;
      lines.push([at, random() < 0.98 ? pick(clocks.slice(0, 5)) : pick(clocks), random() < 0.99 ? pick(bools.slice(0, 5)) : pick(bools), day].join(','));
    }
    const file = path.join(dir, 'spellings.csv');
    writeFileSync(file, lines.join('\n'));
    const source = await openCsvSource(file, { header: true });
    const fast = await fastScan(source);
    expect(fast.columns).toEqual((await slowScan(source)).columns);
    expect(fast.columns.map((c) => c.type)).toEqual(['STRING', 'STRING', 'STRING', 'DATE']);
    // As forced types, the odd cells fail the way the string path fails them, and the rest are rewritten as it rewrites them.
    await compareEncodings(source, ['STRING', 'STRING', 'STRING', 'DATETIME']);
    const forced = lines.filter((line, i) => i === 0 || !/x|24:00|10:61|12\.,|12\.1234567890|1:02:03|yes|truth/.test(line));
    const clean = path.join(dir, 'spellings-valid.csv');
    writeFileSync(clean, forced.join('\n'));
    const valid = await openCsvSource(clean, { header: true });
    const scanned = await fastScan(valid);
    expect(scanned.columns).toEqual((await slowScan(valid)).columns);
    expect(scanned.columns.map((c) => c.type)).toEqual(['DATETIME', 'TIME', 'BOOL', 'DATE']);
    const encoded = await compareEncodings(valid, ['DATETIME', 'TIME', 'BOOL', 'DATETIME']);
    expect(encoded.text).toMatch(/"20\d\d-0\d-\d\dT00:00:00"/);
    expect(encoded.text).toContain('"07:08:09.12"');
    expect(encoded.text).not.toMatch(/TRUE|False|tRuE/);
    await valid.close();
    await source.close();
  });

  it('notices a new kind, a null or a spelling to rewrite after thousands of cells of one kind, as the string path does', async () => {
    // Each column settles on one kind for 20,000 rows, then meets one different cell: the scan
    // must take it in full even though every cell before looked the same.
    const late: Record<string, readonly string[]> = {
      int: ['2147483648', '12.5', '-0', '0012', 'NULL', '"7"'],
      fraction: ['3', '1e5', '0.10', '"2.5"', ''],
      day: ['2024-02-30', '2024-02-29T10:11:12', 'NA', '"2024-01-01"'],
      at: ['2024-01-01 10:11:12', '2024-01-01T10:11:12.500', '2024-01-01T10:11', '2024-01-01T10:11:12Z', '"2024-01-01T10:11:12"'],
      flag: ['TRUE', 'False', 'yes', '"true"', 'null'],
    };
    const names = Object.keys(late);
    for (const [column, cells] of Object.entries(late)) {
      for (const cell of cells) {
        const lines = [names.join(',')];
        for (let r = 0; r < 20_050; r++) {
          const steady = [String(r * 13 - 999), `${r % 500}.${(r % 9) + 1}`, `2023-0${1 + (r % 9)}-1${r % 10}`, `2023-05-0${1 + (r % 9)}T0${r % 10}:15:30`, r % 3 ? 'true' : 'false'];
          if (r === 20_000) steady[names.indexOf(column)] = cell;
          lines.push(steady.join(','));
        }
        const file = path.join(dir, `late-${column}.csv`);
        writeFileSync(file, lines.join('\n'));
        const source = await openCsvSource(file, { header: true });
        const fast = await fastScan(source);
        const slow = await slowScan(source);
        expect({ cell, columns: fast.columns }).toEqual({ cell, columns: slow.columns });
        await compareEncodings(source, fast.columns.map((c) => c.type));
        await source.close();
      }
    }
  });
});

