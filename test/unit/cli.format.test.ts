import { describe, expect, it } from '@jest/globals';
import { count, formatColumnsTable, formatLoadResult, humanBytes, loadSummaryJson } from '../../src/cli/format.js';
import type { LoadSummary } from '../../src/cli/format.js';

function summary(overrides: Partial<LoadSummary> = {}): LoadSummary {
  return {
    command: 'create',
    datasetId: 'D13539E5433CDB837363F086C6DA6B5C',
    name: 'Sales',
    uploadSessionId: '9A4EE1C04C4EA20C8A976A8172034DD0',
    published: true,
    tables: [
      {
        name: 'sales',
        rows: 1_234_567,
        chunks: 12,
        bytes: 98_765_432,
        columns: [
          { name: 'Store', type: 'INTEGER', role: 'attribute' },
          { name: 'Amount', type: 'DOUBLE', role: 'metric' },
        ],
      },
      { name: 'stores', rows: 1, chunks: 1, bytes: 20, columns: [{ name: 'Store', type: 'INTEGER', role: 'attribute' }] },
    ],
    ...overrides,
  };
}

describe('formatLoadResult', () => {
  it('summarises a published create with one line per table', () => {
    expect(formatLoadResult(summary())).toBe(
      [
        'Dataset "Sales" (D13539E5433CDB837363F086C6DA6B5C) created and published.',
        '  sales: 1,234,567 rows in 12 chunks, 98.8 MB of JSON, 2 columns',
        '  stores: 1 row in 1 chunk, 20 B of JSON, 1 column',
      ].join('\n'),
    );
  });

  it('says how to publish an append that was left unpublished', () => {
    const text = formatLoadResult(summary({ command: 'append', name: null, published: false, tables: [] }));
    expect(text).toBe(
      [
        'Rows loaded into dataset D13539E5433CDB837363F086C6DA6B5C, not published.',
        'Upload session 9A4EE1C04C4EA20C8A976A8172034DD0 is open and not published.',
        'Publish it with: mstrpush publish D13539E5433CDB837363F086C6DA6B5C --session 9A4EE1C04C4EA20C8A976A8172034DD0',
      ].join('\n'),
    );
  });

  it('adds the publish hint after the table lines of an unpublished create', () => {
    const lines = formatLoadResult(summary({ published: false })).split('\n');
    expect(lines[0]).toBe('Dataset "Sales" (D13539E5433CDB837363F086C6DA6B5C) created, not published.');
    expect(lines).toHaveLength(5);
    expect(lines[3]).toBe('Upload session 9A4EE1C04C4EA20C8A976A8172034DD0 is open and not published.');
    expect(lines[4]).toBe('Publish it with: mstrpush publish D13539E5433CDB837363F086C6DA6B5C --session 9A4EE1C04C4EA20C8A976A8172034DD0');
  });

  it('names the dataset a published append went into', () => {
    expect(formatLoadResult(summary({ command: 'append', tables: [] }))).toBe(
      'Rows loaded into dataset "Sales" (D13539E5433CDB837363F086C6DA6B5C) and published.',
    );
  });
});

describe('loadSummaryJson', () => {
  it('keeps the documented field order and drops fields that are not part of the document', () => {
    const columns = [{ name: 'Store', type: 'INTEGER' as const, role: 'attribute' as const, nulls: 3, example: '17' }];
    const json = loadSummaryJson(summary({ tables: [{ name: 't', rows: 2, chunks: 1, bytes: 30, columns }] }));
    expect(JSON.stringify(json)).toBe(
      '{"datasetId":"D13539E5433CDB837363F086C6DA6B5C","name":"Sales","uploadSessionId":"9A4EE1C04C4EA20C8A976A8172034DD0",' +
        '"published":true,"tables":[{"name":"t","rows":2,"chunks":1,"bytes":30,' +
        '"columns":[{"name":"Store","type":"INTEGER","role":"attribute"}]}]}',
    );
  });

  it('keeps a null name as null', () => {
    expect(loadSummaryJson(summary({ name: null, published: false }))).toMatchObject({ name: null, published: false });
  });
});

describe('formatColumnsTable', () => {
  it('aligns every column under its header with two spaces between columns and no trailing blanks', () => {
    const text = formatColumnsTable([
      { name: 'Store', type: 'INTEGER', role: 'attribute' },
      { name: 'Amount in EUR', type: 'DOUBLE', role: 'metric' },
    ]);
    expect(text).toBe(
      [
        'column         type     role',
        '-------------  -------  ---------',
        'Store          INTEGER  attribute',
        'Amount in EUR  DOUBLE   metric',
      ].join('\n'),
    );
  });

  it('adds nulls and a flattened, truncated example when any column has a profile', () => {
    const long = 'x'.repeat(50);
    const text = formatColumnsTable([
      { name: 'id', type: 'INTEGER', role: 'attribute', nulls: 0, example: '42' },
      { name: 'note', type: 'STRING', role: 'attribute', nulls: 12, example: 'two\nlines\tand tab' },
      { name: 'blob', type: 'STRING', role: 'attribute', nulls: 1234, example: long },
      { name: 'v', type: 'DOUBLE', role: 'metric' },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('column  type     role       nulls  example');
    expect(lines[1]).toBe('------  -------  ---------  -----  ----------------------------------------');
    expect(lines[2]).toBe('id      INTEGER  attribute  0      42');
    expect(lines[3]).toBe('note    STRING   attribute  12     two lines and tab');
    expect(lines[4]).toBe(`blob    STRING   attribute  1234   ${'x'.repeat(39)}…`);
    expect(lines[5]).toBe('v       DOUBLE   metric');
    for (const line of lines) expect(line).toBe(line.trimEnd());
  });
});

describe('count', () => {
  it('uses the singular only for one and groups thousands', () => {
    expect(count(0, 'row')).toBe('0 rows');
    expect(count(1, 'row')).toBe('1 row');
    expect(count(2, 'chunk')).toBe('2 chunks');
    expect(count(1_000_000, 'row')).toBe('1,000,000 rows');
  });
});

describe('humanBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [999, '999 B'],
    [1000, '1.00 KB'],
    [1536, '1.54 KB'],
    [12_345, '12.3 KB'],
    [999_949, '999.9 KB'],
    [999_999, '1.00 MB'],
    [100_000_000, '100.0 MB'],
    [5_000_000_000, '5.00 GB'],
    [3e12, '3.00 TB'],
    [4e15, '4000.0 TB'],
  ])('formats %d bytes as %j', (bytes, expected) => {
    expect(humanBytes(bytes)).toBe(expected);
  });
});
