import { describe, expect, it } from '@jest/globals';
import type { WireType } from '../../src/schema/types.js';
import { RowsBatcher, buildCreateDataset, checkPowerBiSchema, createPowerBiRowSerializer, integerDigits } from '../../src/targets/powerbi/payload.js';

function catchError(fn: () => unknown): any {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('buildCreateDataset', () => {
  it('builds a push dataset with canonical Power BI type names', () => {
    const body = buildCreateDataset('Sales', [
      {
        name: 'sales',
        file: 'sales.csv',
        columns: (['INTEGER', 'BIGINTEGER', 'DOUBLE', 'BIGDECIMAL', 'BOOL', 'DATE', 'DATETIME', 'TIME', 'STRING'] as WireType[]).map((type) => ({
          name: type.toLowerCase(),
          type,
        })),
      },
    ]);
    expect(body).toEqual({
      name: 'Sales',
      defaultMode: 'Push',
      tables: [
        {
          name: 'sales',
          columns: [
            { name: 'integer', dataType: 'Int64' },
            { name: 'biginteger', dataType: 'Int64' },
            { name: 'double', dataType: 'Double' },
            { name: 'bigdecimal', dataType: 'Decimal' },
            { name: 'bool', dataType: 'Boolean' },
            { name: 'date', dataType: 'DateTime' },
            { name: 'datetime', dataType: 'DateTime' },
            { name: 'time', dataType: 'String' },
            { name: 'string', dataType: 'String' },
          ],
        },
      ],
    });
  });
});

describe('checkPowerBiSchema', () => {
  const columns = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}`, type: 'STRING' as WireType }));

  it('accepts 75 columns', () => {
    expect(() => checkPowerBiSchema([{ name: 'wide', file: 'wide.csv', columns: columns(75) }])).not.toThrow();
  });

  it('names the file, the header line and the 76th column of a table with too many columns', () => {
    const error = catchError(() => checkPowerBiSchema([{ name: 'wide', file: 'wide.csv', columns: columns(80) }]));
    expect(error).toMatchObject({ code: 'INPUT_SCHEMA', location: { file: 'wide.csv', line: 1, column: 'c76' } });
    expect(error.message).toBe(
      'wide.csv:1: table "wide" has 80 columns, more than the 75 Power BI allows; column 76 "c76" is the first too many',
    );
  });

  it('refuses more than 75 tables', () => {
    const tables = Array.from({ length: 76 }, (_, i) => ({ name: `t${i}`, file: `t${i}.csv`, columns: columns(1) }));
    expect(catchError(() => checkPowerBiSchema(tables))).toMatchObject({ code: 'USAGE' });
  });

  it('refuses a table name with characters Power BI does not allow and suggests one without them', () => {
    const error = catchError(() => checkPowerBiSchema([{ name: 'sales.2024', file: 'sales.2024.csv', columns: columns(1) }]));
    expect(error).toMatchObject({ code: 'USAGE', hint: 'name the table after a colon, e.g. sales.2024.csv:sales2024' });
    expect(error.message).toContain('"."');
  });

  it('refuses column names that differ only in case', () => {
    const error = catchError(() =>
      checkPowerBiSchema([{ name: 't', file: 't.csv', columns: [{ name: 'Amount', type: 'STRING' }, { name: 'amount', type: 'STRING' }] }]),
    );
    expect(error).toMatchObject({ code: 'INPUT_SCHEMA', location: { column: 'amount' } });
  });

  it('refuses an empty column name', () => {
    expect(catchError(() => checkPowerBiSchema([{ name: 't', file: 't.csv', columns: [{ name: '', type: 'STRING' }] }]))).toMatchObject({
      code: 'INPUT_SCHEMA',
    });
  });
});

describe('createPowerBiRowSerializer', () => {
  const serialize = (type: WireType, cell: string | null) =>
    createPowerBiRowSerializer([{ name: 'v', type }], { file: 'f.csv' })([cell], 7, 6);

  it.each<[WireType, string, string]>([
    ['INTEGER', '42', '{"v":42}'],
    ['BIGINTEGER', '-9007199254740992', '{"v":-9007199254740992}'],
    ['BIGINTEGER', '9007199254740993', '{"v":"9007199254740993"}'],
    ['BIGINTEGER', '-9223372036854775807', '{"v":"-9223372036854775807"}'],
    ['DOUBLE', '1.5e-9', '{"v":1.5e-9}'],
    ['BIGDECIMAL', '123456789012345678901234.5678', '{"v":123456789012345678901234.5678}'],
    ['BOOL', 'TRUE', '{"v":true}'],
    ['BOOL', 'false', '{"v":false}'],
    ['DATE', '2024-02-29', '{"v":"2024-02-29T00:00:00"}'],
    ['DATETIME', '2024-03-01 09:30', '{"v":"2024-03-01T09:30:00"}'],
    ['DATETIME', '2024-03-01T09:30:00Z', '{"v":"2024-03-01T09:30:00Z"}'],
    ['DATETIME', '2024-03-01T00:30:00+02:00', '{"v":"2024-02-29T22:30:00Z"}'],
    ['DATETIME', '2024-03-01T09:30:00.123456789-0100', '{"v":"2024-03-01T10:30:00.1234567Z"}'],
    ['DATETIME', '2024-03-01', '{"v":"2024-03-01T00:00:00"}'],
    ['STRING', 'say "hi"\n', '{"v":"say \\"hi\\"\\n"}'],
  ])('sends %s %j as %s', (type, cell, expected) => {
    expect(serialize(type, cell)).toBe(expected);
    expect(JSON.parse(serialize(type, cell))).toBeDefined();
  });

  it('sends a TIME as text, Power BI having no time type', () => {
    expect(serialize('TIME', '07:05')).toBe('{"v":"07:05:00"}');
    expect(catchError(() => serialize('TIME', '7:05'))).toMatchObject({ code: 'INPUT_VALUE' });
  });

  it('sends null for a null cell and for null tokens', () => {
    const row = createPowerBiRowSerializer(
      [
        { name: 'a', type: 'INTEGER' },
        { name: 'b', type: 'STRING' },
      ],
      { nullTokens: ['NA'] },
    );
    expect(row([null, 'NA'], 2, 1)).toBe('{"a":null,"b":null}');
  });

  it('escapes column names as JSON keys', () => {
    expect(createPowerBiRowSerializer([{ name: 'a "b"', type: 'STRING' }])(['x'], 2, 1)).toBe('{"a \\"b\\"":"x"}');
  });

  it('accepts a string of exactly 4,000 characters', () => {
    expect(serialize('STRING', 'x'.repeat(4000))).toHaveLength(4000 + 8);
  });

  it('refuses a string of 4,001 characters, naming file, line, row and column', () => {
    const error = catchError(() => serialize('STRING', 'x'.repeat(4001)));
    expect(error).toMatchObject({ code: 'INPUT_VALUE', location: { file: 'f.csv', line: 7, column: 'v' } });
    expect(error.message).toBe('f.csv:7: row 6, column "v": the value has 4,001 characters, more than the 4,000 Power BI accepts');
  });

  it('refuses Int64.MaxValue and Int64.MinValue, which Power BI does not take', () => {
    expect(catchError(() => serialize('BIGINTEGER', '9223372036854775807')).message).toContain('Int64.MaxValue');
    expect(catchError(() => serialize('BIGINTEGER', '-9223372036854775808')).message).toContain('Int64.MinValue');
  });

  it('refuses a Decimal with more than 24 digits before the point', () => {
    const error = catchError(() => serialize('BIGDECIMAL', '1e24'));
    expect(error).toMatchObject({ code: 'INPUT_VALUE', hint: 'load the column as text with --type v=STRING' });
  });

  it('refuses a value that is not of its column type', () => {
    expect(catchError(() => serialize('INTEGER', '12x')).message).toBe('f.csv:7: row 6, column "v": "12x" is not a valid INTEGER');
  });
});

describe('integerDigits', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['0.0001', 0],
    ['-12.5', 2],
    ['1e3', 4],
    ['1.5E-1', 0],
    ['123456789012345678901234', 24],
    ['0.00123e5', 3],
  ])('counts %s as %d digits before the point', (text, digits) => {
    expect(integerDigits(text)).toBe(digits);
  });
});

describe('RowsBatcher', () => {
  it('cuts batches at the row limit and keeps every row once, in order', () => {
    const batcher = new RowsBatcher({ maxRows: 3, maxBytes: 1000 });
    const batches = [];
    for (let i = 1; i <= 7; i++) {
      const done = batcher.add(`{"i":${i}}`, i + 1, i);
      if (done) batches.push(done);
    }
    batches.push(batcher.flush()!);
    expect(batcher.flush()).toBeUndefined();
    expect(batches.map((b) => b.rows)).toEqual([3, 3, 1]);
    expect(batches.map((b) => b.firstRow)).toEqual([1, 4, 7]);
    expect(batches.flatMap((b) => JSON.parse(b.body.toString()).rows.map((r: { i: number }) => r.i))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const b of batches) expect(b.bytes).toBe(b.body.length);
  });

  it('starts a new batch when the next row would pass the byte limit', () => {
    const row = '{"s":"ééé"}'; // 14 bytes of UTF-8
    const batcher = new RowsBatcher({ maxRows: 100, maxBytes: 11 + 14 * 3 + 2 });
    const sizes = [];
    for (let i = 1; i <= 7; i++) {
      const done = batcher.add(row, i, i);
      if (done) sizes.push(done);
    }
    sizes.push(batcher.flush()!);
    expect(sizes.map((b) => b.rows)).toEqual([3, 3, 1]);
    expect(Math.max(...sizes.map((b) => b.body.length))).toBe(55);
  });

  it('refuses a row that cannot fit into any request, naming its line', () => {
    const batcher = new RowsBatcher({ maxRows: 10, maxBytes: 20, file: 'big.csv' });
    expect(catchError(() => batcher.add('{"s":"0123456789"}', 9, 8))).toMatchObject({ code: 'INPUT_RECORD_TOO_LARGE', location: { file: 'big.csv', line: 9 } });
  });

  it('only counts when told not to build bodies', () => {
    const batcher = new RowsBatcher({ maxRows: 2, maxBytes: 1000, buildBodies: false });
    batcher.add('{"i":1}', 1, 1);
    batcher.add('{"i":2}', 2, 2);
    const done = batcher.add('{"i":3}', 3, 3)!;
    expect(done).toMatchObject({ rows: 2, bytes: 11 + 7 + 1 + 7 });
    expect(done.body.length).toBe(0);
  });
});
