import { describe, expect, it } from '@jest/globals';
import { STDIN_MARKER, checkInputSpecs, defaultTableName, parseInputSpec, tableNameOf } from '../../src/pipeline/inputs.js';
import type { InputSpec } from '../../src/pipeline/inputs.js';

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const spec = (path: string, table?: string): InputSpec => ({ path, table });

describe('parseInputSpec', () => {
  it.each([
    ['a.csv', { path: 'a.csv', table: undefined }],
    ['a.csv:T', { path: 'a.csv', table: 'T' }],
    ['-', { path: '-', table: undefined }],
    ['-:Sales', { path: '-', table: 'Sales' }],
    [`${STDIN_MARKER}-:T`, { path: '-', table: 'T' }],
    [`${STDIN_MARKER}-`, { path: '-', table: undefined }],
    ['dir/x.csv', { path: 'dir/x.csv', table: undefined }],
    ['dir/x.csv:Table Name', { path: 'dir/x.csv', table: 'Table Name' }],
    ['weird:name/x.csv', { path: 'weird:name/x.csv', table: undefined }],
    ['weird:name/x.csv:T', { path: 'weird:name/x.csv', table: 'T' }],
    ['C:\\data\\x.csv', { path: 'C:\\data\\x.csv', table: undefined }],
    ['a:b.csv:T:U', { path: 'a:b.csv:T', table: 'U' }],
  ])('reads %j', (raw, expected) => {
    expect(parseInputSpec(raw)).toEqual(expected);
  });

  it('throws a UsageError for a trailing colon that names no table', () => {
    for (const raw of ['a.csv:', '-:', `${STDIN_MARKER}-:`]) {
      const error = errorOf(() => parseInputSpec(raw));
      expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
      expect((error as Error).message).toContain('names no table');
      expect((error as Error).message).not.toContain(STDIN_MARKER);
    }
  });
});

describe('defaultTableName', () => {
  it.each([
    ['sales.csv', 'sales'],
    ['sales.csv.gz', 'sales'],
    ['data.tsv', 'data'],
    ['dir/sub/Orders.PARQUET', 'Orders'],
    ['log.txt.gz', 'log'],
    ['archive.gz', 'archive'],
    ['report.2024.csv', 'report.2024'],
    ['notes.json', 'notes.json'],
    ['.csv', '.csv'],
    ['-', 'data'],
  ])('names %j table %j', (file, expected) => {
    expect(defaultTableName(file)).toBe(expected);
  });
});

describe('tableNameOf', () => {
  it('prefers the explicit table name over the file name', () => {
    expect(tableNameOf(spec('sales.csv', 'Facts'))).toBe('Facts');
    expect(tableNameOf(spec('sales.csv'))).toBe('sales');
  });
});

describe('checkInputSpecs', () => {
  it('accepts distinct tables and one stdin', () => {
    expect(() => checkInputSpecs([spec('a.csv'), spec('b.csv'), spec('-', 'C')])).not.toThrow();
  });

  it('rejects an empty list', () => {
    expect(errorOf(() => checkInputSpecs([]))).toMatchObject({ code: 'USAGE' });
  });

  it('rejects two inputs that load the same table, comparing names case-insensitively', () => {
    const error = errorOf(() => checkInputSpecs([spec('dir/Sales.csv'), spec('other.csv', 'SALES')]));
    expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect((error as Error).message).toContain('"dir/Sales.csv" and "other.csv" would both load table "SALES"');
    expect((error as { hint?: string }).hint).toContain('file.csv:OtherName');
  });

  it('rejects reading standard input twice', () => {
    const error = errorOf(() => checkInputSpecs([spec('-', 'A'), spec('-', 'B')]));
    expect(error).toMatchObject({ code: 'USAGE' });
    expect((error as Error).message).toContain('standard input');
  });
});
