import { describe, expect, it } from '@jest/globals';
import { createSchemaInferrer, schemaFromDeclaredTypes } from '../../src/schema/infer.js';
import type { RawCell, WireType } from '../../src/schema/types.js';
import type { RowBatch } from '../../src/sources/types.js';

function batch(rows: RawCell[][], firstLine = 2): RowBatch {
  return { rows, lines: rows.map((_, i) => firstLine + i), bytesRead: 0 };
}

/** A deterministic pseudo-random generator so large inputs are reproducible. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Feeds `total` generated single-column rows in batches of 10,000, as a source would. */
function inferGenerated(total: number, cellAt: (row: number) => string): WireType {
  const inferrer = createSchemaInferrer(['n']);
  for (let start = 0; start < total; start += 10_000) {
    const rows: RawCell[][] = [];
    for (let r = start; r < Math.min(total, start + 10_000); r++) rows.push([cellAt(r)]);
    inferrer.add(batch(rows, start + 2));
  }
  expect(inferrer.rowCount).toBe(total);
  return inferrer.finish()[0]!.type;
}

describe('createSchemaInferrer', () => {
  it('looks at every row: one "abc" in row 900,000 of an integer column makes it STRING', () => {
    const random = seeded(7);
    const values = Array.from({ length: 1000 }, () => String(Math.floor(random() * 2_000_000_000) - 1_000_000_000));
    expect(inferGenerated(900_000, (r) => values[r % 1000]!)).toBe('INTEGER');
    expect(inferGenerated(900_000, (r) => (r === 899_999 ? 'abc' : values[r % 1000]!))).toBe('STRING');
  });

  it('widens across batches: a decimal in a later batch makes an integer column DOUBLE', () => {
    const inferrer = createSchemaInferrer(['a', 'b']);
    inferrer.add(batch([['1', '2147483647']]));
    inferrer.add(batch([['2.5', '2147483648']], 3));
    expect(inferrer.finish().map((c) => c.type)).toEqual(['DOUBLE', 'BIGINTEGER']);
  });

  it('keeps counting NULLs and rows after a column has settled as STRING', () => {
    const inferrer = createSchemaInferrer(['s']);
    inferrer.add(batch([['abc'], ['1'], [''], [null], ['NA'], ['2024-01-01']]));
    const [column] = inferrer.finish();
    expect(column).toMatchObject({ type: 'STRING', nullCount: 3, nonNullCount: 3, example: 'abc' });
  });

  it('reports counts, the first non-null value as a shortened example, and the type source', () => {
    const long = 'x'.repeat(100);
    const inferrer = createSchemaInferrer(['empty', 'text', 'num']);
    inferrer.add(batch([['', long, ''], ['', 'b', '4']]));
    expect(inferrer.finish()).toEqual([
      { name: 'empty', type: 'STRING', role: 'attribute', roleSource: 'type', typeSource: 'inferred', nullCount: 2, nonNullCount: 0, example: undefined },
      { name: 'text', type: 'STRING', role: 'attribute', roleSource: 'type', typeSource: 'inferred', nullCount: 0, nonNullCount: 2, example: `${'x'.repeat(40)}…` },
      { name: 'num', type: 'INTEGER', role: 'metric', roleSource: 'type', typeSource: 'inferred', nullCount: 1, nonNullCount: 1, example: '4' },
    ]);
  });

  it('gives numeric columns the metric role and others, and identifier names, the attribute role', () => {
    const inferrer = createSchemaInferrer(['customer_id', 'amount', 'city', 'orderID', 'paid']);
    inferrer.add(batch([['17', '1.5', 'Oslo', '99', '3']]));
    expect(inferrer.finish().map((c) => [c.name, c.type, c.role])).toEqual([
      ['customer_id', 'INTEGER', 'attribute'],
      ['amount', 'DOUBLE', 'metric'],
      ['city', 'STRING', 'attribute'],
      ['orderID', 'INTEGER', 'attribute'],
      ['paid', 'INTEGER', 'metric'],
    ]);
  });

  it('applies role overrides at finish', () => {
    const inferrer = createSchemaInferrer(['store_no', 'customer_id']);
    inferrer.add(batch([['12', '5']]));
    const roles = new Map([
      ['store_no', 'attribute'],
      ['customer_id', 'metric'],
    ] as const);
    expect(inferrer.finish(roles).map((c) => [c.role, c.roleSource])).toEqual([
      ['attribute', 'override'],
      ['metric', 'override'],
    ]);
  });

  it('rejects a metric override on a non-numeric column', () => {
    const inferrer = createSchemaInferrer(['city']);
    inferrer.add(batch([['Oslo']]));
    expect(() => inferrer.finish(new Map([['city', 'metric']]))).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('"city" is STRING') }),
    );
  });
});

describe('createSchemaInferrer with type overrides', () => {
  it('keeps an overridden column at its type even when the values look like something else', () => {
    const inferrer = createSchemaInferrer(['zip', 'amount'], {
      typeOverrides: new Map<string, WireType>([
        ['zip', 'STRING'],
        ['amount', 'BIGDECIMAL'],
      ]),
    });
    inferrer.add(batch([['01234', '1'], ['98765', '2.5']]));
    expect(inferrer.finish().map((c) => [c.type, c.typeSource, c.role])).toEqual([
      ['STRING', 'override', 'attribute'],
      ['BIGDECIMAL', 'override', 'metric'],
    ]);
  });

  it('fails on the first value that does not fit, naming file, line, column and value', () => {
    const inferrer = createSchemaInferrer(['id', 'amount'], {
      typeOverrides: new Map<string, WireType>([['amount', 'BIGDECIMAL']]),
      file: 'sales.csv',
    });
    inferrer.add(batch([['1', '10.5'], ['2', 'NA']], 2));
    let caught: unknown;
    try {
      inferrer.add(batch([['3', '7'], ['4', '12x'], ['5', 'zz']], 56));
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 'INPUT_VALUE',
      exitCode: 4,
      location: { file: 'sales.csv', line: 57, column: 'amount', value: '12x' },
    });
    expect((caught as Error).message).toBe('sales.csv:57: column "amount": "12x" is not a valid BIGDECIMAL');
    expect((caught as { hint: string }).hint).toContain('BIGDECIMAL takes numbers');
  });

  it('checks INTEGER strictly: a decimal or an int64 value does not fit', () => {
    for (const bad of ['1.0', '2147483648', '1e3']) {
      const inferrer = createSchemaInferrer(['n'], { typeOverrides: new Map<string, WireType>([['n', 'INTEGER']]) });
      expect(() => inferrer.add(batch([['5'], [bad]]))).toThrow(
        expect.objectContaining({ code: 'INPUT_VALUE', location: { line: 3, column: 'n', value: bad } }),
      );
    }
  });

  it('accepts dates in a column overridden to DATETIME', () => {
    const inferrer = createSchemaInferrer(['t'], { typeOverrides: new Map<string, WireType>([['t', 'DATETIME']]) });
    inferrer.add(batch([['2024-01-02'], ['2024-01-02 10:00+02']]));
    expect(inferrer.finish()[0]!.type).toBe('DATETIME');
  });

  it('rejects an override naming a column the file does not have, listing the columns', () => {
    expect(() =>
      createSchemaInferrer(['id', 'Amount'], {
        typeOverrides: new Map<string, WireType>([['amount', 'DOUBLE']]),
        file: 'sales.csv',
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'USAGE',
        message: expect.stringContaining('"amount", which sales.csv does not have'),
        hint: expect.stringMatching(/did you mean "Amount".*columns: "id", "Amount"/),
      }),
    );
  });
});

describe('createSchemaInferrer with declared types', () => {
  it('uses the declared types and checks every value against them', () => {
    const inferrer = createSchemaInferrer(['x', 'y'], { declaredTypes: ['DOUBLE', 'STRING'], file: 'f.parquet' });
    inferrer.add(batch([['1.5', '007'], [null, 'a']], 1));
    expect(inferrer.finish().map((c) => [c.type, c.typeSource])).toEqual([
      ['DOUBLE', 'declared'],
      ['STRING', 'declared'],
    ]);
    expect(() => inferrer.add(batch([['NaN', 'b']], 3))).toThrow(
      expect.objectContaining({
        code: 'INPUT_VALUE',
        location: { file: 'f.parquet', line: 3, column: 'x', value: 'NaN' },
        hint: expect.stringContaining('the file declares the column as DOUBLE'),
      }),
    );
  });

  it('lets a type override win over a declared type', () => {
    const inferrer = createSchemaInferrer(['x'], {
      declaredTypes: ['INTEGER'],
      typeOverrides: new Map<string, WireType>([['x', 'STRING']]),
    });
    inferrer.add(batch([['abc']]));
    expect(inferrer.finish()[0]).toMatchObject({ type: 'STRING', typeSource: 'override' });
  });
});

describe('schemaFromDeclaredTypes', () => {
  it('assigns roles to declared types as for inferred ones, with overrides', () => {
    const columns = schemaFromDeclaredTypes(['product_key', 'qty', 'price', 'label'], ['BIGINTEGER', 'INTEGER', 'DOUBLE', 'STRING'], {
      typeOverrides: new Map<string, WireType>([['price', 'BIGDECIMAL']]),
      roleOverrides: new Map([['qty', 'attribute']]),
    });
    expect(columns.map((c) => [c.name, c.type, c.role, c.typeSource])).toEqual([
      ['product_key', 'BIGINTEGER', 'attribute', 'declared'],
      ['qty', 'INTEGER', 'attribute', 'declared'],
      ['price', 'BIGDECIMAL', 'metric', 'override'],
      ['label', 'STRING', 'attribute', 'declared'],
    ]);
  });
});
