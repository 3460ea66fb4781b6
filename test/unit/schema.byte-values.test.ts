import { ASK_TEXT, classifyBytes, isWireReady } from '../../src/schema/byte-values.js';
import { WIRE_TYPES } from '../../src/schema/types.js';
import { wireReadyColumns } from '../../src/sources/csv-fast.js';
import { VALUE_KIND, classifyValue, normalizeValue } from '../../src/schema/values.js';
import { createRandom as seeded } from '../helpers/seeded-csv.js';

// Cells near every shape the shortcuts decide: numbers, dates, times, booleans, and near misses.
const SEEDS = [
  '0', '-0', '7', '-7', '123456789', '-123456789', '1234567890', '2147483647', '2147483648', '-2147483648',
  '999999999999999999', '9223372036854775807', '9223372036854775808', '00', '01', '-', '--1', '+1', '1.', '.5',
  '-.5', '0.5', '-0.5', '00.5', '1.50', '123456789012.345', '1234567890123.456', '0.000000000000001', '1e5',
  '1.5e-9', '1,5', ' 1', '1 ', '2024-01-31', '2024-02-29', '2023-02-29', '0000-01-01', '9999-12-31', '2024-13-01',
  '2024-00-10', '2024-1-01', '2024-01-31T23:59:59', '2024-01-31T24:00:00', '2024-01-31T23:60:00',
  '2024-01-31T23:59:60', '2024-01-31 23:59:59', '2024-01-31t23:59:59', '2024-01-31T23:59', '2024-01-31T23:59:59.5',
  '2024-01-31T23:59:59.50', '2024-01-31T23:59:59.000', '2024-01-31T23:59:59.123456789', '2024-01-31T23:59:59.1234567891',
  '2024-01-31T23:59:59Z', '2024-01-31T23:59:59+01:00', '23:59:59', '23:59', '24:00:00', '12:00:00.250', '12:00:00.25',
  'true', 'false', 'TRUE', 'False', 'tru', 'falsey', '', 'abc', 'é', '12é', '-2024-01-01',
];

function mutate(text: string, random: () => number): string {
  const chars = [...text];
  const alphabet = '0123456789-.:T Ze+';
  const at = Math.floor(random() * (chars.length + 1));
  const pick = alphabet[Math.floor(random() * alphabet.length)]!;
  const action = Math.floor(random() * 3);
  if (action === 0) chars.splice(at, 0, pick);
  else if (action === 1) chars.splice(at, 1);
  else chars[at] = pick;
  return chars.join('');
}


function cases(): string[] {
  const random = seeded(20261122);
  const all = new Set(SEEDS);
  for (const seed of SEEDS) for (let k = 0; k < 60; k++) all.add(mutate(mutate(seed, random), random));
  return [...all];
}

// The cell sits between other bytes, as it does in a CSV buffer, so reading past its end shows.
function inBuffer(text: string): { buf: Buffer; s: number; e: number } {
  const cell = Buffer.from(text, 'utf8');
  const buf = Buffer.concat([Buffer.from('9:-'), cell, Buffer.from('-0:5T00')]);
  return { buf, s: 3, e: 3 + cell.length };
}

describe('classifyBytes', () => {
  const texts = cases();

  it('answers as classifyValue does wherever it answers', () => {
    const wrong: string[] = [];
    for (const text of texts) {
      const { buf, s, e } = inBuffer(text);
      const kind = classifyBytes(buf, s, e);
      if (kind !== ASK_TEXT && kind !== classifyValue(text)) wrong.push(`${JSON.stringify(text)}: ${kind} vs ${classifyValue(text)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('decides the everyday shapes itself', () => {
    const decided = (text: string) => {
      const { buf, s, e } = inBuffer(text);
      return classifyBytes(buf, s, e);
    };
    expect(decided('123456789')).toBe(VALUE_KIND.INT32);
    expect(decided('-1234.56')).toBe(VALUE_KIND.FRACTION);
    expect(decided('2024-02-29')).toBe(VALUE_KIND.DATE);
    expect(decided('2024-02-29T10:11:12.5')).toBe(VALUE_KIND.DATETIME);
    expect(decided('true')).toBe(VALUE_KIND.BOOL);
    expect(decided('2023-02-29')).toBe(ASK_TEXT);
    expect(decided('TRUE')).toBe(ASK_TEXT);
  });
});

describe('isWireReady', () => {
  const texts = cases();

  it('says ready only for valid values that normalizeValue hands back unchanged', () => {
    const wrong: string[] = [];
    for (const type of WIRE_TYPES) {
      for (const text of texts) {
        const { buf, s, e } = inBuffer(text);
        if (isWireReady(type, buf, s, e) && normalizeValue(type, text) !== text) wrong.push(`${type} ${JSON.stringify(text)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('says ready for the canonical spellings of each type', () => {
    const ready = (type: (typeof WIRE_TYPES)[number], text: string) => {
      const { buf, s, e } = inBuffer(text);
      return isWireReady(type, buf, s, e);
    };
    expect(ready('INTEGER', '-123456789')).toBe(true);
    expect(ready('BIGINTEGER', '123456789012345678')).toBe(true);
    expect(ready('DOUBLE', '-0.125')).toBe(true);
    expect(ready('BIGDECIMAL', '123456789012345678901234567890.5')).toBe(true);
    expect(ready('BOOL', 'false')).toBe(true);
    expect(ready('DATE', '2024-02-29')).toBe(true);
    expect(ready('TIME', '23:59:59.25')).toBe(true);
    expect(ready('DATETIME', '2024-02-29T23:59:59')).toBe(true);
    expect(ready('DATETIME', '2024-02-29 23:59:59')).toBe(false);
    expect(ready('BOOL', 'TRUE')).toBe(false);
  });
});

describe('wireReadyColumns', () => {
  const { INT32, INT64, FRACTION, BOOL, DATE, DATETIME } = VALUE_KIND;

  it('trusts a column only when every cell kind the scan saw is canonical for the column type', () => {
    const types = ['INTEGER', 'BIGINTEGER', 'DOUBLE', 'BIGDECIMAL', 'BOOL', 'DATE', 'DATETIME', 'DATETIME', 'DOUBLE', 'STRING', 'TIME', 'INTEGER'] as const;
    const kinds = Int32Array.of(INT32, INT32, INT32 | FRACTION, FRACTION, BOOL, DATE, DATETIME, DATE | DATETIME, INT64, 0, 0, INT32);
    const slow = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    expect([...wireReadyColumns(types, kinds, slow)]).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  });
});
