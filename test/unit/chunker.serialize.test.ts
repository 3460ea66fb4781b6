import { describe, expect, it } from '@jest/globals';
import { createRowSerializer, jsonString, serializeValue } from '../../src/chunker/serialize.js';
import type { RawCell, WireType } from '../../src/schema/types.js';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const columns: { name: string; type: WireType }[] = [
  { name: 'id', type: 'INTEGER' },
  { name: 'name', type: 'STRING' },
  { name: 'note', type: 'STRING' },
  { name: 'ok', type: 'BOOL' },
  { name: 'at', type: 'DATETIME' },
  { name: 'day', type: 'DATE' },
  { name: 'time', type: 'TIME' },
  { name: 'price', type: 'DOUBLE' },
];

describe('createRowSerializer', () => {
  it('writes one row as a JSON array in column order', () => {
    const serialize = createRowSerializer(columns);
    const row: RawCell[] = ['1', 'a b', '', 'TRUE', '2024-01-02 05:04:05.500+02:00', '2024-02-29', '07:08', '-1.5e3'];
    expect(serialize(row, 2)).toBe('[1,"a b",null,true,"2024-01-02T03:04:05.5","2024-02-29","07:08:00",-1.5e3]');
  });

  it('parses back to the expected values', () => {
    const serialize = createRowSerializer(columns);
    const text = serialize(['-2147483648', 'say "hi"\n\\o/', 'NA', 'false', '2024-12-31T23:30:00-01:00', null, '23:59:59.000', '0.1'], 9);
    expect(JSON.parse(text)).toEqual([
      -2147483648,
      'say "hi"\n\\o/',
      null,
      false,
      '2025-01-01T00:30:00',
      null,
      '23:59:59',
      0.1,
    ]);
  });

  it('passes big numbers through as their exact source text', () => {
    const serialize = createRowSerializer([
      { name: 'big', type: 'BIGINTEGER' },
      { name: 'dec', type: 'BIGDECIMAL' },
      { name: 'huge', type: 'BIGDECIMAL' },
    ]);
    const text = serialize(['9223372036854775807', '123456789012345678901234567890.000000000000000001', '1e400'], 2);
    expect(text).toBe('[9223372036854775807,123456789012345678901234567890.000000000000000001,1e400]');
  });

  it('writes every configured null token as null, and only those', () => {
    const serialize = createRowSerializer(
      [
        { name: 's', type: 'STRING' },
        { name: 't', type: 'STRING' },
        { name: 'n', type: 'INTEGER' },
      ],
      { nullTokens: ['-'] },
    );
    expect(serialize(['-', '', '-'], 2)).toBe('[null,"",null]');
    expect(serialize(['NULL', 'NA', '5'], 3)).toBe('["NULL","NA",5]');
  });

  it('fails on a value that does not fit its column, naming file, line, column and value', () => {
    const serialize = createRowSerializer(columns, { file: 'data.csv' });
    const row: RawCell[] = ['1', 'x', 'y', 'true', '2023-02-29T00:00:00', null, null, null];
    expect(() => serialize(row, 41)).toThrow(
      expect.objectContaining({
        code: 'INPUT_VALUE',
        message: 'data.csv:41: column "at": "2023-02-29T00:00:00" is not a valid DATETIME',
        location: { file: 'data.csv', line: 41, column: 'at', value: '2023-02-29T00:00:00' },
        hint: expect.stringContaining('DATETIME takes'),
      }),
    );
  });

  it.each<[WireType, string]>([
    ['INTEGER', '2147483648'],
    ['INTEGER', '007'],
    ['BIGINTEGER', '1.5'],
    ['DOUBLE', 'NaN'],
    ['DOUBLE', '1e400'],
    ['BIGDECIMAL', '1,5'],
    ['BOOL', 'yes'],
    ['DATE', '2024-02-30'],
    ['TIME', '24:00'],
    ['DATETIME', '0001-01-01T00:00:00+00:01'],
  ])('rejects %s value %s', (type, value) => {
    const serialize = createRowSerializer([{ name: 'c', type }]);
    expect(() => serialize([value], 7)).toThrow(expect.objectContaining({ code: 'INPUT_VALUE', location: { line: 7, column: 'c', value } }));
  });

  it('treats a wrong row width as a bug, not an input error', () => {
    const serialize = createRowSerializer(columns);
    expect(() => serialize(['1'], 2)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('round-trips seeded random strings through JSON.parse', () => {
    const random = seeded(2024);
    const alphabet = ['a', 'Z', ' ', '"', '\\', '\n', '\r', '\t', '\u0000', '\u001f', '\u007f', 'é', '€', '\u2028', '😀', '/', ','];
    const serialize = createRowSerializer([
      { name: 'a', type: 'STRING' },
      { name: 'b', type: 'STRING' },
    ]);
    for (let n = 0; n < 2000; n++) {
      const cells = [0, 1].map(() => {
        let s = 'x';
        const length = Math.floor(random() * 12);
        for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)]!;
        return s;
      });
      expect(JSON.parse(serialize(cells, n))).toEqual(cells);
    }
  });
});

describe('jsonString', () => {
  it('wraps plain text in quotes and escapes what JSON needs', () => {
    expect(jsonString('plain text, é €')).toBe('"plain text, é €"');
    expect(jsonString('a"b\\c\nd\u0001')).toBe('"a\\"b\\\\c\\nd\\u0001"');
  });

  it('escapes a lone surrogate so UTF-8 encoding cannot corrupt it', () => {
    expect(jsonString('a\ud800b')).toBe('"a\\ud800b"');
    expect(jsonString('😀')).toBe('"😀"');
  });
});

describe('serializeValue', () => {
  it.each<[WireType, RawCell, string | undefined]>([
    ['STRING', 'NULL', '"NULL"'],
    ['STRING', null, 'null'],
    ['INTEGER', '42', '42'],
    ['INTEGER', 'x', undefined],
    ['BOOL', 'False', 'false'],
    ['DATE', '2024-01-02', '"2024-01-02"'],
    ['TIME', '01:02:03.100', '"01:02:03.1"'],
    ['DATETIME', '2024-01-02', '"2024-01-02T00:00:00"'],
    ['DATETIME', '2024-03-01T01:00:00+05:00', '"2024-02-29T20:00:00"'],
  ])('writes %s %j as %s', (type, raw, expected) => {
    expect(serializeValue(type, raw)).toBe(expected);
  });
});
