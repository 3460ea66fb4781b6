import { createHash } from 'node:crypto';
import { parseStrictJson } from '../../src/emulator/json-strict.js';
import { ChunkBodyDecoder } from '../../src/emulator/mstr/chunk-body.js';
import { canonicalChunkRows } from '../../src/emulator/mstr/chunk-canonical.js';
import { resolveOptions } from '../../src/emulator/mstr/options.js';
import { ScratchBuffers } from '../../src/emulator/mstr/scratch.js';
import { EmulatorState, canonicalRowJson } from '../../src/emulator/mstr/state.js';
import type { Cell, SessionTableSpec, TableDef } from '../../src/emulator/mstr/types.js';
import { decodeBase64Strict, decodeChunkBytes, validateChunkRequest, validateModel, validateUploadSessionRequest } from '../../src/emulator/mstr/validate.js';
import type { ChunkContext } from '../../src/emulator/mstr/validate.js';

// The byte-level chunk path (body decoder, canonical rows) against the general path it replaces:
// strict JSON parse of the body, the regex base64 check, decodeChunk and canonicalRowJson.

// Small deterministic PRNG (mulberry32) so generated cases are reproducible.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('empty list');
  return item;
}

// The base64 check the emulator used before, kept as the reference.
const BASE64 = /^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function referenceBase64(data: string): Buffer | undefined {
  if (data.length % 4 !== 0 || !BASE64.test(data)) return undefined;
  const pad = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  if (pad > 0 && (ALPHABET.indexOf(data.charAt(data.length - pad - 1)) & (pad === 2 ? 0x0f : 0x03)) !== 0) return undefined;
  return Buffer.from(data, 'base64');
}

// ---------------------------------------------------------------------------------------------
// A table with every wire type, and chunk generators

const MODEL = {
  name: 'All',
  tables: [
    {
      name: 'T',
      columnHeaders: [
        { name: 'Id', dataType: 'INTEGER' },
        { name: 'Big', dataType: 'BIGINTEGER' },
        { name: 'Cost', dataType: 'DOUBLE' },
        { name: 'Dec', dataType: 'BIGDECIMAL' },
        { name: 'Name', dataType: 'STRING' },
        { name: 'Day', dataType: 'DATE' },
        { name: 'At', dataType: 'TIME' },
        { name: 'Stamp', dataType: 'DATETIME' },
        { name: 'Flag', dataType: 'BOOL' },
      ],
    },
  ],
  attributes: ['Id', 'Name', 'Day', 'At', 'Stamp', 'Flag'].map((c) => ({ name: c, attributeForms: [{ category: 'ID', expressions: [{ tableName: 'T', columnName: c }] }] })),
  metrics: ['Big', 'Cost', 'Dec'].map((c) => ({ name: c, expressions: [{ tableName: 'T', columnName: c }] })),
};

let ids = 0;
const TABLE: TableDef = (() => {
  const table = validateModel(parseStrictJson(JSON.stringify(MODEL)), { allowDuplicateModelNames: false, newId: () => String(++ids).padStart(32, '0') }).tables[0];
  if (table === undefined) throw new Error('no table');
  return table;
})();

function spec(columnHeaders: string[] | undefined, orientation = 'ROW'): SessionTableSpec {
  const entry = { name: 'T', updatePolicy: 'add', orientation, ...(columnHeaders === undefined ? {} : { columnHeaders }) };
  const [only] = validateUploadSessionRequest(parseStrictJson(JSON.stringify({ tables: [entry] })), [TABLE], true);
  if (only === undefined) throw new Error('no spec');
  return only;
}

const ALL_COLUMNS = spec(undefined);
const REORDERED = spec(['Flag', 'Id', 'Name', 'Day', 'Cost']);

const VALID: Record<string, readonly string[]> = {
  INTEGER: ['0', '-0', '7', '-42', '123456789', '-999999999', '2147483647', '-2147483648', '1000000000'],
  BIGINTEGER: ['0', '-0', '9223372036854775807', '-9223372036854775808', '1234567890123456789', '-2147483649', '4000000000'],
  DOUBLE: ['1.5', '-0.0', '1e10', '1E+2', '2.5e-3', '0.1000000000000000055511', '1.7976931348623157e308', '-1e-400', `1${'0'.repeat(308)}`, '3'],
  BIGDECIMAL: ['12345678901234567890.123456789', '1e400', '-0.5', '0', '200.50', '1E-7'],
  DATE: ['"2020-01-05"', '"2020-1-5"', '"2020-12-5"', '"2024-02-29"', '"0001-01-01"', '"9999-12-31"', '"2017-12-05"', '"2021-3-31"'],
  TIME: ['"23:59:59"', '"00:00:00.123456789"', '"12:34:56.5"', '"00:00:00"'],
  DATETIME: ['"2020-01-02T03:04:05"', '"2020-01-02T03:04:05.123456789"', '"2000-02-29T23:59:59.1"'],
  BOOL: ['true', 'false'],
};

// Pieces of a JSON string's source text: plain, non-ASCII, and every kind of escape, including
// lone surrogates (legal JSON, kept escaped by JSON.stringify).
const STRING_PIECES = [
  'plain', 'a b', 'Café', '東京', '😀', '\u2028', '\u007f', '/', "'", '\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t',
  '\\u0000', '\\u001f', '\\u0041', '\\u002F', '\\u00e9', '\\u00E9', '\\u20ac', '\\ud83d\\ude00', '\\uD83D\\uDE00', '\\ud800', '\\udc00',
  '\\ud800\\ud800\\udc00', '\\udbff', '\\udbff\\udfff', '\\ud800\\udc00', '\\udfff', '\\u0022', '\\u005c', '\\u007f', '\\uffff', '\\ufeff', '\\u2028', '',
];

function validString(random: () => number): string {
  let text = '';
  const count = Math.floor(random() * 4);
  for (let i = 0; i < count; i++) text += pick(random, STRING_PIECES);
  return `"${text}"`;
}

function validValue(random: () => number, type: string): string {
  if (random() < 0.1) return 'null';
  if (type === 'STRING') return validString(random);
  if (type === 'DATE' && random() < 0.05) return '"\\u0032020-01-01"';
  if (type === 'TIME' && random() < 0.05) return '"12:00:0\\u0030"';
  return pick(random, VALID[type] ?? ['null']);
}

const SPACE = [' ', '\t', '\n', '\r', '  '];

function space(random: () => number, rate: number): string {
  return random() < rate ? pick(random, SPACE) : '';
}

interface Chunk {
  text: string;
  /** Cells of the generated rows, by row, in session order. */
  rows: string[][];
}

function validChunk(random: () => number, context: ChunkContext, rowCount: number, spaceRate: number): Chunk {
  const types = context.spec.columnPositions.map((p) => TABLE.columns[p]?.dataType ?? 'STRING');
  const rows = Array.from({ length: rowCount }, () => types.map((type) => validValue(random, type)));
  const s = (): string => space(random, spaceRate);
  const text = `${s()}[${s()}${rows.map((cells) => `[${s()}${cells.map((c) => `${c}${s()}`).join(`,${s()}`)}]`).join(`${s()},${s()}`)}${s()}]${s()}`;
  return { text, rows };
}

// Invalid or doubtful values, some valid for some types: each lands in a random column.
const BAD_VALUES = [
  '01', '-01', '1.', '.5', '1e', '1e+', '-', '+1', 'NaN', 'Infinity', '-Infinity', '0x1', '--1', '1.5.2', '1_0', '00',
  '2147483648', '-2147483649', '9223372036854775808', '-9223372036854775809', '99999999999999999999', '1.0', '1e0', '1e400', '-1e309',
  `1${'0'.repeat(309)}`, '9'.repeat(309), `-${'9'.repeat(309)}.5`, '"1.5"', '"7"', '7', 'true', 'tru', 'True', 'nul', 'NULL', 'nulll', 'falsey', '[1]', '{}', '{"a":1}', '[]',
  '"2023-02-29"', '"2023-13-01"', '"2023-1-32"', '"0000-01-01"', '"2023-01-01T00:00:00Z"', '"2023-01-01 00:00:00"', '"2023-1-1T00:00:00"',
  '"24:00:00"', '"12:60:00"', '"12:00:60"', '"12:00:00."', '"12:00:00.1234567890"', '"12:0:00"', '"12:00"', '"2023-01-01T24:00:00"',
  '"2023-01-1"', '"2023-001-01"', '"20230101"', '""', '"2023-02-29T00:00:00"', '"abc"', '"\\x"', '"\\u12"', '"\\uZZZZ"', "\"\\'\"", '"a\\u00"',
  '"a\tb"', '"a\u0000"', '"a\u001f"', '"unterminated', '"a"b"', "'single'", '"\\u0032020-02-30"', '"\\u00312:00:00"', '1 2', '"a" "b"',
];

type Mutation = (text: string, random: () => number) => string;

function replaceCell(chunk: Chunk, random: () => number, value: string): string {
  const rows = chunk.rows.map((r) => [...r]);
  const row = rows[Math.floor(random() * rows.length)];
  if (row === undefined) return `[[${value}]]`;
  row[Math.floor(random() * row.length)] = value;
  return `[${rows.map((r) => `[${r.join(',')}]`).join(',')}]`;
}

const STRUCTURAL: Mutation[] = [
  (t) => t.replace(/,[^,]*\]/, ']'), // a short row
  (t) => t.replace(']', ',null]'), // a long row
  (t) => t.replace(']', ',]'), // trailing comma in a row
  (t) => `${t.slice(0, t.lastIndexOf(']'))},]`, // trailing comma after the rows
  (t) => `${t}x`,
  (t) => `${t}]`,
  (t) => `${t} ]`,
  (t) => `${t}[]`,
  (t) => t.slice(0, -1),
  (t) => t.slice(1),
  (t) => `\ufeff${t}`,
  (t) => `{"rows":${t}}`,
  () => '42',
  () => '"[]"',
  () => '',
  () => ' ',
  (t) => t.replace('[[', '[[],['),
  (t) => t.replace('[[', '[{"a":1},['),
  (t) => t.replace('[[', '["row",['),
  (t) => t.replace('[[', '[null,['),
  (t) => t.replace('],[', '],,['),
  (t) => t.replace('],[', ']['),
  (t) => t.replace('],[', '] , ['),
  (t) => t.replace(',', ' , '),
  (t) => t.replace('[[', '[ [ '),
  (t, random) => {
    const at = Math.floor(random() * (t.length + 1));
    return `${t.slice(0, at)}${pick(random, ['"', '\\', ',', '[', ']', '{', '}', ':', 'x', '\u0001'])}${t.slice(at)}`;
  },
  (t, random) => {
    const at = Math.floor(random() * t.length);
    return t.slice(0, at) + t.slice(at + 1);
  },
];

// Byte sequences that are not UTF-8, put inside or outside a string.
const BAD_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe6, 0x9d], [0x80], [0xf5, 0x80, 0x80, 0x80], [0xf0, 0x9f, 0x98]];

function withBadUtf8(text: string, random: () => number): Buffer {
  const bytes = Buffer.from(text);
  const quote = bytes.indexOf(0x22);
  const at = quote !== -1 && random() < 0.7 ? quote + 1 : Math.floor(random() * (bytes.length + 1));
  return Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(random, BAD_UTF8)), bytes.subarray(at)]);
}

// ---------------------------------------------------------------------------------------------
// The two paths

type Outcome = { accepted: true; rowCount: number; canonical: Buffer } | { accepted: false; status: number; code: string; message: string };

// The old path: decodeChunk, one canonicalRowJson line per row.
function oldPath(bytes: Buffer, context: ChunkContext): Outcome {
  const lines: string[] = [];
  try {
    const rowCount = decodeChunkBytes(bytes, context, (row: Cell[]) => lines.push(canonicalRowJson(row, TABLE.columns), '\n'));
    return { accepted: true, rowCount, canonical: Buffer.from(lines.join('')) };
  } catch (error) {
    const { status, code, message } = error as { status: number; code: string; message: string };
    return { accepted: false, status, code, message };
  }
}

const scratch = new ScratchBuffers();

// The new path: the byte-level check, which leaves its input untouched when it declines.
function fastPath(bytes: Buffer, context: ChunkContext): Outcome | undefined {
  const copy = Buffer.from(bytes);
  const rows = canonicalChunkRows(copy, context, scratch);
  if (rows === undefined) {
    expect(copy.equals(bytes)).toBe(true);
    return undefined;
  }
  const outcome: Outcome = { accepted: true, rowCount: rows.rowCount, canonical: Buffer.from(rows.bytes) };
  rows.release();
  return outcome;
}

function hasNestedCell(bytes: Buffer): boolean {
  const value = parseStrictJson(bytes.toString('utf8'));
  return Array.isArray(value) && value.some((row) => Array.isArray(row) && row.some((cell) => Array.isArray(cell) || cell instanceof Map));
}

interface Tally {
  fast: number;
  declined: number;
  rejected: number;
}

// The fast path accepts exactly what the old path accepts, with the same rows; only values the
// old path turns into null from inside a nested array or object (invalidDate=null) are left to it.
function compare(bytes: Buffer, context: ChunkContext, tally: Tally, label: string): void {
  const expected = oldPath(bytes, context);
  const actual = fastPath(bytes, context);
  if (!expected.accepted) tally.rejected++;
  if (actual === undefined) {
    tally.declined++;
    if (expected.accepted && !(context.invalidDate === 'null' && hasNestedCell(bytes))) {
      throw new Error(`${label}: declined a chunk the old path accepts: ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`);
    }
    return;
  }
  tally.fast++;
  if (expected.accepted === false) {
    throw new Error(`${label}: accepted a chunk the old path rejects (${expected.message}): ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`);
  }
  if (actual.accepted === false) throw new Error('the fast path only accepts');
  expect({ label, rowCount: actual.rowCount, canonical: actual.canonical.toString('latin1') }).toEqual({
    label,
    rowCount: expected.rowCount,
    canonical: expected.canonical.toString('latin1'),
  });
}

const CONTEXTS: Array<[string, ChunkContext]> = [
  ['all columns', { spec: ALL_COLUMNS, index: 1, invalidDate: 'reject' }],
  ['all columns, invalidDate=null', { spec: ALL_COLUMNS, index: 2, invalidDate: 'null' }],
  ['a reordered subset', { spec: REORDERED, index: 3, invalidDate: 'reject' }],
  ['a reordered subset, invalidDate=null', { spec: REORDERED, index: 4, invalidDate: 'null' }],
];

describe('canonicalChunkRows', () => {
  it.each(CONTEXTS)('accepts exactly the valid chunks decodeChunk accepts, with the same rows (%s)', (_name, context) => {
    const random = prng(20240611 + context.index);
    const tally: Tally = { fast: 0, declined: 0, rejected: 0 };
    for (let i = 0; i < 400; i++) {
      const chunk = validChunk(random, context, Math.floor(random() * 6), i % 4 === 0 ? 0.3 : 0);
      compare(Buffer.from(chunk.text), context, tally, `valid #${i}`);
    }
    expect(tally).toEqual({ fast: 400, declined: 0, rejected: 0 });
  });

  it.each(CONTEXTS)('rejects every mutated chunk decodeChunk rejects and agrees on the rest (%s)', (_name, context) => {
    const random = prng(777 + context.index);
    const tally: Tally = { fast: 0, declined: 0, rejected: 0 };
    for (let i = 0; i < 1500; i++) {
      const chunk = validChunk(random, context, 1 + Math.floor(random() * 4), i % 5 === 0 ? 0.3 : 0);
      const kind = i % 3;
      const bytes =
        kind === 0
          ? Buffer.from(replaceCell(chunk, random, pick(random, BAD_VALUES)))
          : kind === 1
            ? Buffer.from(pick(random, STRUCTURAL)(chunk.text, random))
            : random() < 0.5
              ? withBadUtf8(chunk.text, random)
              : Buffer.from(replaceCell(chunk, random, pick(random, BAD_VALUES)));
      compare(bytes, context, tally, `mutation #${i}`);
    }
    // Most mutations are errors; the generator must also reach the fast path's acceptances.
    expect(tally.rejected).toBeGreaterThan(900);
    expect(tally.fast).toBeGreaterThan(100);
  });

  it('agrees on every bad value in every column', () => {
    const tally: Tally = { fast: 0, declined: 0, rejected: 0 };
    for (const [name, context] of CONTEXTS) {
      const width = context.spec.columnPositions.length;
      for (const value of [...BAD_VALUES, ...Object.values(VALID).flat()]) {
        for (let c = 0; c < width; c++) {
          const cells = Array.from({ length: width }, (_, i) => (i === c ? value : 'null'));
          compare(Buffer.from(`[[${cells.join(',')}],[${cells.join(', ')}]]`), context, tally, `${name} ${value} in column ${c}`);
        }
      }
    }
    expect(tally.fast).toBeGreaterThan(500);
    expect(tally.rejected).toBeGreaterThan(500);
  });

  it('keeps canonical rows right across long chunks whose first edit comes late', () => {
    const tally: Tally = { fast: 0, declined: 0, rejected: 0 };
    const context: ChunkContext = { spec: spec(['Id', 'Day', 'At', 'Name']), index: 1, invalidDate: 'reject' };
    const rows = Array.from({ length: 3000 }, (_, i) => `[${i},"2020-01-05","12:00:00","name ${i}"]`);
    for (const at of [0, 1, 1023, 1024, 1025, 2999]) {
      const edited = [...rows];
      edited[at] = `[ ${at},"2021-3-4","12:00:00","name"]`;
      compare(Buffer.from(`[${edited.join(',')}]`), context, tally, `edit at row ${at}`);
    }
    compare(Buffer.from(`[${rows.join(',')}]`), context, tally, 'no edit');
    expect(tally).toEqual({ fast: 7, declined: 0, rejected: 0 });
  });

  it('grows its output when nulls make the canonical rows longer than the chunk', () => {
    const context: ChunkContext = { spec: spec(['Day']), index: 1, invalidDate: 'null' };
    const tally: Tally = { fast: 0, declined: 0, rejected: 0 };
    compare(Buffer.from(`[${Array.from({ length: 5000 }, () => '[1]').join(',')}]`), context, tally, 'numbers as null dates');
    expect(tally).toEqual({ fast: 1, declined: 0, rejected: 0 });
  });

  it('leaves COLUMN chunks to decodeChunk', () => {
    const context: ChunkContext = { spec: spec(['Id', 'Name'], 'COLUMN'), index: 1, invalidDate: 'reject' };
    expect(canonicalChunkRows(Buffer.from('[[1,2],["a","b"]]'), context, scratch)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Base64

describe('decodeBase64Strict', () => {
  const samples = ['', 'QQ==', 'QUI=', 'QUJD', 'W1tdXQ==', 'W1sxXV0=', 'W1sxLCJhIl1d', '////', '+/+/AAA='];

  it('agrees with the regex check on every single-character change', () => {
    const replacements = [...Array.from({ length: 0x180 }, (_, c) => String.fromCharCode(c)), '\ud800', '\udc00', '😀', '\u0141', '\uff21'];
    let accepted = 0;
    for (const sample of samples) {
      for (let at = 0; at <= sample.length; at++) {
        const variants = [sample.slice(0, at) + sample.slice(at + 1), ...replacements.flatMap((r) => [sample.slice(0, at) + r + sample.slice(at + 1), sample.slice(0, at) + r + sample.slice(at)])];
        for (const variant of variants) {
          const expected = referenceBase64(variant);
          const actual = decodeBase64Strict(variant);
          if (expected !== undefined) accepted++;
          expect([variant, actual?.toString('hex')]).toEqual([variant, expected?.toString('hex')]);
        }
      }
    }
    expect(accepted).toBeGreaterThan(300);
  });

  it('agrees with the regex check on random strings near the alphabet', () => {
    const random = prng(5);
    const chars = `${ALPHABET}=-_ \n.é`;
    for (let i = 0; i < 20000; i++) {
      const length = Math.floor(random() * 13);
      let text = '';
      for (let k = 0; k < length; k++) text += random() < 0.9 ? pick(random, [...ALPHABET]) : pick(random, [...chars]);
      expect([text, decodeBase64Strict(text)?.toString('hex')]).toEqual([text, referenceBase64(text)?.toString('hex')]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Chunk request bodies

interface GeneralBody {
  tableName: string;
  index: number;
  data: Buffer | undefined;
}

// The general path: UTF-8, strict JSON, validateChunkRequest, then the old base64 check.
function generalBody(body: Buffer): GeneralBody | string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return 'not UTF-8';
  }
  try {
    const request = validateChunkRequest(parseStrictJson(text));
    if (typeof request.data !== 'string') return 'data decoded already';
    return { tableName: request.tableName, index: request.index, data: referenceBase64(request.data) };
  } catch (error) {
    return (error as Error).message;
  }
}

function decodeBody(body: Buffer, parts: number[], length: number | undefined): ReturnType<ChunkBodyDecoder['finish']> {
  const decoder = new ChunkBodyDecoder(length, scratch);
  let at = 0;
  for (const size of parts) {
    if (at >= body.length) break;
    decoder.push(body.subarray(at, at + size));
    at += size;
  }
  if (at < body.length) decoder.push(body.subarray(at));
  return decoder.finish();
}

function randomParts(random: () => number, max: number): number[] {
  return Array.from({ length: 64 }, () => 1 + Math.floor(random() * max));
}

// A decoded request must be what the general path reads, with data the old check accepts; any
// other body must come back byte for byte, for the general path to rule on.
function expectSameReading(body: Buffer, parts: number[], label: string, length: number | 'unknown' = body.length): 'decoded' | 'raw' {
  const result = decodeBody(body, parts, length === 'unknown' ? undefined : length);
  if (result.request === undefined) {
    expect({ label, raw: result.bytes.toString('latin1') }).toEqual({ label, raw: body.toString('latin1') });
    return 'raw';
  }
  const general = generalBody(body);
  const data = Buffer.from(result.request.data);
  scratch.give(result.request.data);
  expect({ label, tableName: result.request.tableName, index: result.request.index, data: data.toString('hex') }).toEqual({
    label,
    tableName: typeof general === 'string' ? general : general.tableName,
    index: typeof general === 'string' ? -1 : general.index,
    data: typeof general === 'string' ? '' : general.data?.toString('hex'),
  });
  return 'decoded';
}

function usualBody(tableName: string, index: number | string, data: string): Buffer {
  return Buffer.from(`{"tableName":${JSON.stringify(tableName)},"index":${JSON.stringify(index)},"data":"${data}"}`);
}

describe('ChunkBodyDecoder', () => {
  const json = JSON.stringify([[1, 'Café 東京 😀', '2020-01-05', null]]);

  it('decodes the usual body in any split into parts', () => {
    const random = prng(11);
    for (const length of [1, 2, 3, 4, 5, 6, 40, 3000]) {
      const data = Buffer.from(json.repeat(length)).subarray(0, length * 7).toString('base64');
      for (let i = 0; i < 40; i++) {
        expect(expectSameReading(usualBody('T', 1 + i, data), randomParts(random, i < 20 ? 7 : 900), `length ${length} #${i}`)).toBe('decoded');
      }
    }
    expect(expectSameReading(usualBody('Umsätze Q1', '2147483647', Buffer.from(json).toString('base64')), [5], 'string index')).toBe('decoded');
  });

  it('agrees with the general path on every byte value at every position of the data', () => {
    // Two groups without padding, then one with: every position of a canonical text.
    const data = Buffer.from(json).subarray(0, 6).toString('base64') + Buffer.from('[]').toString('base64');
    const body = usualBody('T', 3, data);
    const start = body.indexOf('"data":"') + 8;
    let decoded = 0;
    for (let at = start - 1; at < body.length; at++) {
      for (let byte = 0; byte < 256; byte++) {
        const changed = Buffer.from(body);
        changed[at] = byte;
        const general = generalBody(changed);
        const accepted = typeof general !== 'string' && general.data !== undefined;
        for (const parts of [[5], [start + 3, 2], [1000]]) {
          // Any change that keeps the body valid keeps its usual shape, so it is decoded too.
          const reading = expectSameReading(changed, parts, `byte ${byte} at ${at}`);
          expect([at, byte, reading]).toEqual([at, byte, accepted ? 'decoded' : 'raw']);
          if (reading === 'decoded') decoded++;
        }
      }
    }
    expect(decoded).toBeGreaterThan(300);
  });

  it('agrees with the general path on random changes to long data', () => {
    const random = prng(12);
    const data = Buffer.from(json.repeat(200)).toString('base64');
    for (let i = 0; i < 1500; i++) {
      const body = Buffer.from(usualBody('T', 1, data));
      const at = body.indexOf('"data":"') + 8 + Math.floor(random() * (data.length + 2));
      const change = pick(random, ['-', '_', '=', ' ', '\n', '!', '.', '\\', '"', 'é', '\u0000', 'A', '==', '']);
      const changed = Buffer.concat([body.subarray(0, at), Buffer.from(change), body.subarray(at + (random() < 0.5 ? 1 : 0))]);
      if (random() < 0.1) changed[at] = 0xff;
      expectSameReading(changed, randomParts(random, 700), `change #${i}`);
    }
  });

  it.each([
    ['whitespace', '{ "tableName":"T","index":1,"data":"W10="}'],
    ['another key order', '{"index":1,"tableName":"T","data":"W10="}'],
    ['an extra key', '{"tableName":"T","index":1,"data":"W10=","x":1}'],
    ['a repeated key', '{"tableName":"T","index":1,"data":"W10=","tableName":"U"}'],
    ['an escaped table name', '{"tableName":"T\\u0041","index":1,"data":"W10="}'],
    ['a control character in the name', '{"tableName":"T\u0001","index":1,"data":"W10="}'],
    ['index zero', '{"tableName":"T","index":0,"data":"W10="}'],
    ['a padded index', '{"tableName":"T","index":01,"data":"W10="}'],
    ['a fractional index', '{"tableName":"T","index":1.5,"data":"W10="}'],
    ['an index past 32 bits', '{"tableName":"T","index":2147483648,"data":"W10="}'],
    ['an eleven-digit index', '{"tableName":"T","index":12345678901,"data":"W10="}'],
    ['a negative string index', '{"tableName":"T","index":"-1","data":"W10="}'],
    ['an index string with a space', '{"tableName":"T","index":"1 ","data":"W10="}'],
    ['a trailing newline', '{"tableName":"T","index":1,"data":"W10="}\n'],
    ['no closing brace', '{"tableName":"T","index":1,"data":"W10="'],
    ['a second object', '{"tableName":"T","index":1,"data":"W10="}{}'],
    ['empty data', '{"tableName":"T","index":1,"data":""}'],
    ['unpadded data', '{"tableName":"T","index":1,"data":"W10"}'],
    ['data as a number', '{"tableName":"T","index":1,"data":12345}'],
    ['an upper-case key', '{"TableName":"T","index":1,"data":"W10="}'],
    ['a BOM', '\ufeff{"tableName":"T","index":1,"data":"W10="}'],
  ])('hands back a body with %s unchanged', (_name, text) => {
    expect(expectSameReading(Buffer.from(text), [3], text)).toBe('raw');
    expect(expectSameReading(Buffer.from(text), [1000], text)).toBe('raw');
  });

  it('hands back bodies whose table name is not UTF-8 or whose head is still open after 16 KiB', () => {
    const bad = Buffer.concat([Buffer.from('{"tableName":"T'), Buffer.from([0xc3]), Buffer.from('","index":1,"data":"W10="}')]);
    expect(expectSameReading(bad, [4], 'bad name')).toBe('raw');
    const long = usualBody('x'.repeat(20000), 1, 'W10=');
    expect(expectSameReading(long, Array.from({ length: 64 }, () => 1000), 'long name in parts')).toBe('raw');
    expect(expectSameReading(long, [30000], 'long name at once')).toBe('decoded');
    expect(expectSameReading(usualBody('', 1, 'W10='), [3], 'empty name')).toBe('decoded');
  });

  it('hands back a body whose length differs from the declared one', () => {
    const body = usualBody('T', 1, Buffer.from(json).toString('base64'));
    expect(expectSameReading(body, [10], 'longer declared', body.length + 4)).toBe('raw');
    expect(expectSameReading(body, [10], 'unknown length', 'unknown')).toBe('raw');
    expect(expectSameReading(body, [10], 'declared length')).toBe('decoded');
  });
});

// ---------------------------------------------------------------------------------------------
// Both keepRows modes of the emulator state

describe('EmulatorState chunks with and without kept rows', () => {
  type Verdict = { code: string; message: string } | 'accepted';

  function openStates(invalidDate: 'reject' | 'null'): Array<{ state: EmulatorState; datasetId: string; login: ReturnType<EmulatorState['login']> }> {
    return [true, false].map((keepRows) => {
      const state = new EmulatorState(resolveOptions({ keepRows, invalidDate }));
      const login = state.login('etl', 'etl-secret', 1);
      const model = validateModel(parseStrictJson(JSON.stringify(MODEL)), { allowDuplicateModelNames: false, newId: () => String(++ids).padStart(32, '0') });
      const projectId = 'B7CA92F04B9FAE8D941C3E9B7E0CD754';
      const { id } = state.createDataset(projectId, model);
      return { state, datasetId: id, login };
    });
  }

  function put(entry: ReturnType<typeof openStates>[number], columnHeaders: string[] | undefined, chunks: Array<string | Buffer>): Verdict[] {
    const { state, datasetId, login } = entry;
    const dataset = state.getDataset('B7CA92F04B9FAE8D941C3E9B7E0CD754', datasetId);
    const specs = validateUploadSessionRequest(
      parseStrictJson(JSON.stringify({ tables: [{ name: 'T', updatePolicy: 'add', ...(columnHeaders === undefined ? {} : { columnHeaders }) }] })),
      dataset.model.tables,
      state.options.keepRows,
    );
    const sessionId = state.openUploadSession(login, dataset, specs);
    const session = state.getUploadSession(login, dataset, sessionId);
    const verdicts = chunks.map((data, i): Verdict => {
      try {
        state.addChunk(dataset, session, 'T', i + 1, data);
        return 'accepted';
      } catch (error) {
        const { code, message } = error as { code: string; message: string };
        // Rejected indexes are filled with an empty chunk so the session can be published.
        state.addChunk(dataset, session, 'T', i + 1, Buffer.from('[]').toString('base64'));
        return { code, message };
      }
    });
    state.publish(dataset, session);
    for (let poll = 0; poll < 5; poll++) state.publishStatus(dataset, session);
    return verdicts;
  }

  it.each([['reject' as const], ['null' as const]])('reach the same verdicts and the same checksum (invalidDate=%s)', (invalidDate) => {
    const random = prng(invalidDate === 'null' ? 31 : 30);
    const entries = openStates(invalidDate);
    for (const columnHeaders of [undefined, ['Flag', 'Id', 'Name', 'Day', 'Cost']]) {
      const context: ChunkContext = { spec: columnHeaders === undefined ? ALL_COLUMNS : REORDERED, index: 1, invalidDate };
      const chunks: Array<string | Buffer> = [];
      for (let i = 0; i < 120; i++) {
        const chunk = validChunk(random, context, Math.floor(random() * 5), i % 6 === 0 ? 0.3 : 0);
        const text = i % 3 === 0 ? replaceCell(chunk, random, pick(random, BAD_VALUES)) : i % 7 === 0 ? pick(random, STRUCTURAL)(chunk.text, random) : chunk.text;
        const bytes = i % 11 === 0 ? withBadUtf8(text, random) : Buffer.from(text);
        // Both forms addChunk takes: base64 text from the general path, bytes from the body decoder.
        chunks.push(i % 2 === 0 ? bytes.toString('base64') : Buffer.from(bytes));
      }
      chunks.push('W11=', 'W10', 'W1tdXQ==\n');
      const [kept, streamed] = entries.map((entry) => put(entry, columnHeaders, chunks.map((c) => (typeof c === 'string' ? c : Buffer.from(c)))));
      expect(streamed).toEqual(kept);
      expect(kept?.filter((v) => v === 'accepted').length).toBeGreaterThan(40);
    }
    const [keptTable, streamedTable] = entries.map(({ state, datasetId }) => state.inspectDataset(datasetId)?.tables[0]);
    expect(streamedTable?.rows).toBeUndefined();
    expect(streamedTable?.rowCount).toBe(keptTable?.rowCount);
    expect(streamedTable?.checksum).toBe(keptTable?.checksum);
    const expected = createHash('sha256')
      .update((keptTable?.rows ?? []).map((row) => `${canonicalRowJson(row, TABLE.columns)}\n`).join(''))
      .digest('hex');
    expect(keptTable?.checksum).toBe(expected);
  });

  it('accepts an identical retry of a folded chunk, in another form, and refuses different data', () => {
    const [, streamed] = openStates('reject');
    if (streamed === undefined) throw new Error('no state');
    const { state, datasetId, login } = streamed;
    const dataset = state.getDataset('B7CA92F04B9FAE8D941C3E9B7E0CD754', datasetId);
    const specs = validateUploadSessionRequest(parseStrictJson('{"tables":[{"name":"T","updatePolicy":"add","columnHeaders":["Id","Day"]}]}'), dataset.model.tables, false);
    const session = state.getUploadSession(login, dataset, state.openUploadSession(login, dataset, specs));
    state.addChunk(dataset, session, 'T', 2, Buffer.from('[[2,"2020-01-02"]]'));
    state.addChunk(dataset, session, 'T', 1, Buffer.from('[[1,"2020-01-01"]]'));
    state.addChunk(dataset, session, 'T', 1, Buffer.from('[ [1, "2020-1-1"] ]').toString('base64'));
    state.addChunk(dataset, session, 'T', 2, Buffer.from('[[2,"2020-1-2"]]'));
    expect(() => state.addChunk(dataset, session, 'T', 2, Buffer.from('[[2,"2020-01-03"]]'))).toThrow(expect.objectContaining({ code: 'ERR010' }));
    expect(() => state.addChunk(dataset, session, 'T', 1, Buffer.from('[]'))).toThrow(expect.objectContaining({ code: 'ERR010' }));
    state.addChunk(dataset, session, 'T', 4, Buffer.from('[[4,null]]'));
    state.addChunk(dataset, session, 'T', 4, Buffer.from('[[4,"2020-01-04"]]'));
    state.addChunk(dataset, session, 'T', 3, Buffer.from('[[3,null]]'));
    state.publish(dataset, session);
    for (let poll = 0; poll < 5; poll++) state.publishStatus(dataset, session);
    const table = state.inspectDataset(datasetId)?.tables[0];
    const rows = ['[1,null,null,null,null,"2020-01-01",null,null,null]', '[2,null,null,null,null,"2020-01-02",null,null,null]', '[3,null,null,null,null,null,null,null,null]', '[4,null,null,null,null,"2020-01-04",null,null,null]'];
    expect(table?.rowCount).toBe(4);
    expect(table?.checksum).toBe(createHash('sha256').update(rows.map((r) => `${r}\n`).join('')).digest('hex'));
  });
});
