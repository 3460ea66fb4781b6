// Deterministic CSV generator for end-to-end tests: from a seed it writes the CSV text and, beside
// it, the cells the dataset must hold once published, computed directly in their canonical wire
// form rather than by running any of the code under test.

import type { WireType } from '../../src/schema/types.js';

/** A published cell as the emulator stores it: numbers and temporal values as exact text. */
export type PublishedCell = null | boolean | string;

/** What a generated column holds; each kind infers to one documented type (KIND_TYPES). */
export type ColumnKind =
  | 'integer'
  | 'biginteger'
  | 'decimal'
  | 'bigdecimal'
  | 'bool'
  | 'date'
  | 'time'
  | 'datetime'
  | 'string';

export const COLUMN_KINDS: readonly ColumnKind[] = [
  'integer',
  'biginteger',
  'decimal',
  'bigdecimal',
  'bool',
  'date',
  'time',
  'datetime',
  'string',
];

/** The type the tool must infer for a column of each kind. */
export const KIND_TYPES: Readonly<Record<ColumnKind, WireType>> = {
  integer: 'INTEGER',
  biginteger: 'BIGINTEGER',
  decimal: 'DOUBLE',
  bigdecimal: 'BIGDECIMAL',
  bool: 'BOOL',
  date: 'DATE',
  time: 'TIME',
  datetime: 'DATETIME',
  string: 'STRING',
};

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  /** Share of cells (after the first row, which is never null) written as a null token. Default 0.1. */
  nullRate?: number;
}

export interface SeededCsv {
  /** The whole file, header first, LF line endings, comma-delimited. */
  text: string;
  header: string[];
  /** Expected published rows, one array of cells per data row. */
  rows: PublishedCell[][];
}

/** mulberry32: a tiny 32-bit PRNG, plenty for test data and identical on every platform. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The default null tokens, each of which must come back as null.
const NULL_TEXTS = ['', '', '', 'NULL', 'null', 'NA', 'N/A', '#N/A'];

// Pieces of string cells. None is a null token, a number, a date or a boolean on its own, and a
// cell always starts with a letter word so that the column can only be STRING.
const WORDS = ['alpha', 'Zoë', 'naïve café', '東京', 'Ελλάδα', 'مرحبا', 'שלום', 'emoji😀', 'x', 'Straße', 'ok'];
const PIECES = [', comma', ' "quoted"', '\nsecond line', '\r\ncrlf line', ' 42', ' -3.5', ';semi', '|pipe', "'apos'", '\ttab', ' 🎉'];

const ZONES: readonly { text: string; minutes: number }[] = [
  { text: '', minutes: 0 },
  { text: 'Z', minutes: 0 },
  { text: '+00:00', minutes: 0 },
  { text: '+05:30', minutes: 330 },
  { text: '-08:00', minutes: -480 },
  { text: '+14:00', minutes: 840 },
  { text: '-0330', minutes: -210 },
  { text: '+09', minutes: 540 },
  { text: '-23:59', minutes: -1439 },
];

const MIN_DAY = Date.UTC(1900, 0, 1) / 86_400_000;
const MAX_DAY = Date.UTC(2099, 11, 31) / 86_400_000;

/** Generates `rowCount` rows of `columns` from `seed`. */
export function generateCsv(seed: number, rowCount: number, columns: readonly ColumnSpec[]): SeededCsv {
  const random = createRandom(seed);
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const digits = (count: number, firstNonZero: boolean): string => {
    let out = '';
    for (let i = 0; i < count; i++) out += String(i === 0 && firstNonZero ? int(1, 9) : int(0, 9));
    return out;
  };
  const fraction = (maxDigits: number): string => (maxDigits === 0 ? '' : digits(int(0, maxDigits), false));
  const trimZeros = (f: string): string => f.replace(/0+$/, '');

  // Each generator returns [csv text, published cell].
  const generators: Record<ColumnKind, () => [string, PublishedCell]> = {
    integer: () => {
      const n = random() < 0.5 ? int(-999, 999) : int(-2147483648, 2147483647);
      const text = String(n);
      return [text, text];
    },
    biginteger: () => {
      if (random() < 0.02) {
        const edge = pick(['9223372036854775807', '-9223372036854775808', '2147483648', '-2147483649']);
        return [edge, edge];
      }
      // Always beyond int32 and within int64, so no value could make the column INTEGER or wider.
      const magnitude = 2147483648n + BigInt(Math.floor(random() * 2 ** 52)) * BigInt(int(1, 2047));
      const text = `${random() < 0.5 ? '-' : ''}${magnitude}`;
      return [text, text];
    },
    decimal: () => {
      const sign = random() < 0.3 ? '-' : '';
      const whole = String(int(0, 999_999));
      // At most 6 + 4 = 10 significant digits: always a DOUBLE, never BIGDECIMAL.
      const text = random() < 0.1 ? `${sign}${int(1, 9)}.${digits(3, false)}e${int(-20, 20)}` : `${sign}${whole}.${digits(int(1, 4), false)}`;
      return [text, text];
    },
    bigdecimal: () => {
      // 10+ integer digits and a fraction ending in a non-zero digit: more than 15 significant digits.
      const text = `${random() < 0.5 ? '-' : ''}${digits(int(10, 30), true)}.${digits(int(0, 9), false)}${int(1, 9)}`;
      return [text, text];
    },
    bool: () => {
      const value = random() < 0.5;
      const word = value ? 'true' : 'false';
      const text = [...word].map((ch) => (random() < 0.3 ? ch.toUpperCase() : ch)).join('');
      return [text, value];
    },
    date: () => {
      const text = random() < 0.01 ? '2024-02-29' : isoDate(int(MIN_DAY, MAX_DAY));
      return [text, text];
    },
    time: () => {
      const hh = pad(int(0, 23));
      const mm = pad(int(0, 59));
      if (random() < 0.1) return [`${hh}:${mm}`, `${hh}:${mm}:00`];
      const ss = pad(int(0, 59));
      const f = fraction(9);
      const text = f === '' ? `${hh}:${mm}:${ss}` : `${hh}:${mm}:${ss}.${f}`;
      const trimmed = trimZeros(f);
      return [text, trimmed === '' ? `${hh}:${mm}:${ss}` : `${hh}:${mm}:${ss}.${trimmed}`];
    },
    datetime: () => {
      // A UTC instant in whole seconds, written in a random zone; the fraction rides along unchanged.
      const utcSeconds = int(MIN_DAY + 1, MAX_DAY - 1) * 86_400 + int(0, 86_399);
      const zone = pick(ZONES);
      const local = new Date((utcSeconds + zone.minutes * 60) * 1000).toISOString();
      const utc = new Date(utcSeconds * 1000).toISOString();
      const withSeconds = random() < 0.9;
      const f = withSeconds ? fraction(9) : '';
      const clock = withSeconds ? local.slice(11, 19) : local.slice(11, 16);
      const text = `${local.slice(0, 10)}${random() < 0.7 ? 'T' : ' '}${clock}${f === '' ? '' : `.${f}`}${zone.text}`;
      const expectedSeconds = withSeconds ? utc.slice(0, 19) : `${utc.slice(0, 17)}00`;
      const trimmed = trimZeros(f);
      return [text, trimmed === '' ? expectedSeconds : `${expectedSeconds}.${trimmed}`];
    },
    string: () => {
      let value = pick(WORDS);
      const extra = int(0, 3);
      for (let i = 0; i < extra; i++) value += random() < 0.6 ? pick(PIECES) : ` ${pick(WORDS)}`;
      return [quoteIfNeeded(value, random() < 0.1), value];
    },
  };

  const header = columns.map((c) => c.name);
  const lines: string[] = [header.map((h) => quoteIfNeeded(h, false)).join(',')];
  const rows: PublishedCell[][] = [];
  for (let r = 0; r < rowCount; r++) {
    const texts: string[] = [];
    const cells: PublishedCell[] = [];
    for (const column of columns) {
      if (r > 0 && random() < (column.nullRate ?? 0.1)) {
        texts.push(pick(NULL_TEXTS));
        cells.push(null);
      } else {
        const [text, cell] = generators[column.kind]();
        texts.push(text);
        cells.push(cell);
      }
    }
    lines.push(texts.join(','));
    rows.push(cells);
  }
  return { text: `${lines.join('\n')}\n`, header, rows };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function isoDate(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

function quoteIfNeeded(value: string, always: boolean): string {
  return always || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Where two row lists first differ, or undefined when they are equal. */
export function firstDifference(
  actual: readonly (readonly PublishedCell[])[],
  expected: readonly (readonly PublishedCell[])[],
): { row: number; column: number; actual: PublishedCell | undefined; expected: PublishedCell | undefined } | undefined {
  const count = Math.max(actual.length, expected.length);
  for (let r = 0; r < count; r++) {
    const a = actual[r];
    const e = expected[r];
    const width = Math.max(a?.length ?? 0, e?.length ?? 0, 1);
    for (let c = 0; c < width; c++) {
      if (a?.[c] !== e?.[c]) return { row: r, column: c, actual: a?.[c], expected: e?.[c] };
    }
  }
  return undefined;
}
