import { describe, expect, it } from '@jest/globals';
import { streamedBytes } from '../../src/http/client.js';
import type { StreamedBody } from '../../src/http/client.js';
import { buildChunkBody, buildModel, buildUploadSession } from '../../src/targets/mstr/payload.js';
import type { ColumnRole, TableSchema, WireType } from '../../src/schema/types.js';

function table(name: string, columns: Array<[string, WireType, ColumnRole]>): TableSchema {
  return { name, columns: columns.map(([columnName, type, role]) => ({ name: columnName, type, role })) };
}

const ref = (tableName: string, columnName: string) => ({ tableName, columnName });
const attribute = (name: string, ...expressions: Array<{ tableName: string; columnName: string }>) => ({
  name,
  attributeForms: [{ category: 'ID', expressions }],
});

describe('buildModel', () => {
  it('builds the documented two-table model, linking same-named attributes of the same type', () => {
    const tables = [
      table('table1', [
        ['ID', 'INTEGER', 'attribute'],
        ['Day', 'DATE', 'attribute'],
        ['Category', 'STRING', 'attribute'],
        ['Cost', 'DOUBLE', 'metric'],
      ]),
      table('table2', [
        ['ID', 'INTEGER', 'attribute'],
        ['Stamp', 'DATETIME', 'attribute'],
        ['Profit', 'DOUBLE', 'metric'],
      ]),
    ];
    expect(buildModel('testModel', tables)).toEqual({
      name: 'testModel',
      folderId: '',
      tables: [
        {
          name: 'table1',
          columnHeaders: [
            { name: 'ID', dataType: 'INTEGER' },
            { name: 'Day', dataType: 'DATE' },
            { name: 'Category', dataType: 'STRING' },
            { name: 'Cost', dataType: 'DOUBLE' },
          ],
        },
        {
          name: 'table2',
          columnHeaders: [
            { name: 'ID', dataType: 'INTEGER' },
            { name: 'Stamp', dataType: 'DATETIME' },
            { name: 'Profit', dataType: 'DOUBLE' },
          ],
        },
      ],
      attributes: [
        attribute('ID', ref('table1', 'ID'), ref('table2', 'ID')),
        attribute('Day', ref('table1', 'Day')),
        attribute('Category', ref('table1', 'Category')),
        attribute('Stamp', ref('table2', 'Stamp')),
      ],
      metrics: [
        { name: 'Cost', expressions: [ref('table1', 'Cost')] },
        { name: 'Profit', expressions: [ref('table2', 'Profit')] },
      ],
    });
  });

  it('omits description unless given and passes description and folderId through', () => {
    const tables = [table('t', [['a', 'STRING', 'attribute']])];
    const plain = buildModel('M', tables);
    expect('description' in plain).toBe(false);
    expect(plain.folderId).toBe('');
    const full = buildModel('M', tables, { description: 'nightly "sales" ✓', folderId: 'F00D' });
    expect(full.description).toBe('nightly "sales" ✓');
    expect(full.folderId).toBe('F00D');
  });

  it('links one attribute across three tables with one expression per table', () => {
    const tables = ['a', 'b', 'c'].map((name) => table(name, [['Region', 'STRING', 'attribute']]));
    expect(buildModel('M', tables).attributes).toEqual([
      attribute('Region', ref('a', 'Region'), ref('b', 'Region'), ref('c', 'Region')),
    ]);
  });

  it('names an attribute "name (table)" when the same name has another type, linking each type separately', () => {
    const tables = [
      table('t1', [['Code', 'INTEGER', 'attribute']]),
      table('t2', [['Code', 'STRING', 'attribute']]),
      table('t3', [['Code', 'STRING', 'attribute']]),
      table('t4', [['Code', 'INTEGER', 'attribute']]),
    ];
    expect(buildModel('M', tables).attributes).toEqual([
      attribute('Code', ref('t1', 'Code'), ref('t4', 'Code')),
      attribute('Code (t2)', ref('t2', 'Code'), ref('t3', 'Code')),
    ]);
  });

  it('names the later object "name (table)" when an attribute and a metric share a name', () => {
    const metricFirst = buildModel('M', [
      table('t1', [['Amount', 'DOUBLE', 'metric']]),
      table('t2', [['Amount', 'DOUBLE', 'attribute']]),
    ]);
    expect(metricFirst.metrics).toEqual([{ name: 'Amount', expressions: [ref('t1', 'Amount')] }]);
    expect(metricFirst.attributes).toEqual([attribute('Amount (t2)', ref('t2', 'Amount'))]);

    const attributeFirst = buildModel('M', [
      table('t1', [['Amount', 'DOUBLE', 'attribute']]),
      table('t2', [['Amount', 'DOUBLE', 'metric']]),
    ]);
    expect(attributeFirst.attributes).toEqual([attribute('Amount', ref('t1', 'Amount'))]);
    expect(attributeFirst.metrics).toEqual([{ name: 'Amount (t2)', expressions: [ref('t2', 'Amount')] }]);
  });

  it('keeps same-named metrics of several tables apart', () => {
    const model = buildModel('M', [table('t1', [['Cost', 'DOUBLE', 'metric']]), table('t2', [['Cost', 'DOUBLE', 'metric']])]);
    expect(model.metrics).toEqual([
      { name: 'Cost', expressions: [ref('t1', 'Cost')] },
      { name: 'Cost (t2)', expressions: [ref('t2', 'Cost')] },
    ]);
  });

  it('still links same-typed attributes whose name a metric took first', () => {
    const model = buildModel('M', [
      table('t1', [['Key', 'INTEGER', 'metric']]),
      table('t2', [['Key', 'STRING', 'attribute']]),
      table('t3', [['Key', 'STRING', 'attribute']]),
    ]);
    expect(model.metrics).toEqual([{ name: 'Key', expressions: [ref('t1', 'Key')] }]);
    expect(model.attributes).toEqual([attribute('Key (t2)', ref('t2', 'Key'), ref('t3', 'Key'))]);
  });

  it('counts up when the qualified name is taken too', () => {
    const model = buildModel('M', [
      table('t1', [
        ['a', 'INTEGER', 'attribute'],
        ['a (t2)', 'STRING', 'attribute'],
      ]),
      table('t2', [['a', 'STRING', 'attribute']]),
    ]);
    expect(model.attributes.map((a) => a.name)).toEqual(['a', 'a (t2)', 'a (t2) 2']);
    expect(model.attributes[2]).toEqual(attribute('a (t2) 2', ref('t2', 'a')));
  });

  it('gives every attribute and metric a unique name', () => {
    const model = buildModel('M', [
      table('x', [['n', 'INTEGER', 'attribute'], ['v', 'DOUBLE', 'metric']]),
      table('y', [['n', 'STRING', 'attribute'], ['v', 'DOUBLE', 'attribute'], ['n (x)', 'DOUBLE', 'metric']]),
      table('z', [['n', 'DOUBLE', 'metric'], ['v', 'BIGDECIMAL', 'metric']]),
    ]);
    const names = [...model.attributes, ...model.metrics].map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    const columns = [...model.attributes.flatMap((a) => a.attributeForms[0]!.expressions), ...model.metrics.flatMap((m) => m.expressions)];
    expect(columns).toHaveLength(7);
  });
});

describe('buildUploadSession', () => {
  it('lists each table with its policy, ROW orientation and column names in order', () => {
    const columns = ['ID', 'Day', 'Cost'];
    const body = buildUploadSession([
      { name: 'table1', policy: 'replace', columns },
      { name: 'table2', policy: 'add', columns: ['ID'] },
    ]);
    expect(body).toEqual({
      tables: [
        { name: 'table1', updatePolicy: 'replace', orientation: 'ROW', columnHeaders: ['ID', 'Day', 'Cost'] },
        { name: 'table2', updatePolicy: 'add', orientation: 'ROW', columnHeaders: ['ID'] },
      ],
    });
    expect(body.tables[0]!.columnHeaders).not.toBe(columns);
    expect(JSON.stringify(body)).toBe(
      '{"tables":[{"name":"table1","updatePolicy":"replace","orientation":"ROW","columnHeaders":["ID","Day","Cost"]},' +
        '{"name":"table2","updatePolicy":"add","orientation":"ROW","columnHeaders":["ID"]}]}',
    );
  });
});

describe('buildChunkBody', () => {
  const bytes = (body: StreamedBody) => streamedBytes(body);
  const parse = (body: StreamedBody) => JSON.parse(bytes(body).toString('utf8')) as { tableName: string; index: number; data: string };

  it('sends tableName, index and the chunk as standard base64, in that order', () => {
    const json = Buffer.from('[[1,"a"]]');
    const body = buildChunkBody('table1', 3, json);
    expect(bytes(body).toString('utf8')).toBe(`{"tableName":"table1","index":3,"data":"${json.toString('base64')}"}`);
    expect(body.length).toBe(bytes(body).length);
  });

  it('makes the base64 in pieces that join into the base64 of the whole chunk, the same on every call', () => {
    const json = Buffer.alloc(7 * 1024 * 1024 + 5);
    for (let i = 0; i < json.length; i++) json[i] = (i * 131 + 7) % 251;
    const body = buildChunkBody('t', 2, json);
    const pieces = [...body.pieces()];
    expect(pieces.length).toBeGreaterThan(3);
    // Text pieces stay within the 65,535 characters that Node writes to a socket without first
    // scanning them for their UTF-8 length.
    const texts = pieces.filter((piece): piece is string => typeof piece === 'string');
    expect(texts.length).toBe(pieces.length - 2);
    expect(Math.max(...texts.map((text) => text.length))).toBe(65_532);
    const first = bytes(body);
    expect(first.length).toBe(body.length);
    expect(parse(body).data).toBe(json.toString('base64'));
    expect(bytes(body).equals(first)).toBe(true);
  });

  it('round-trips every length, including 0 and lengths not divisible by 3', () => {
    for (let length = 0; length <= 13; length++) {
      const json = Buffer.from(Array.from({ length }, (_, i) => (i * 97 + length * 31) % 256));
      const body = buildChunkBody('t', length + 1, json);
      const parsed = parse(body);
      expect(parsed.index).toBe(length + 1);
      expect(Buffer.from(parsed.data, 'base64').equals(json)).toBe(true);
      expect(parsed.data).toBe(json.toString('base64'));
      expect(parsed.data.length % 4).toBe(0);
    }
  });

  it('round-trips multi-byte UTF-8 chunk text byte for byte', () => {
    const json = Buffer.from(JSON.stringify([['é中😀', null, 1.5], ['\u2028"\\', true, -2]]), 'utf8');
    const parsed = parse(buildChunkBody('t', 1, json));
    expect(Buffer.from(parsed.data, 'base64').equals(json)).toBe(true);
  });

  it('escapes quotes, backslashes, control and non-ASCII characters in the table name', () => {
    for (const name of ['say "hi"', 'back\\slash', 'tab\there\nnewline', 'Umsätze 売上 📈', '\u2028\u2029']) {
      const parsed = parse(buildChunkBody(name, 1, Buffer.from('[]')));
      expect(parsed.tableName).toBe(name);
      expect(Buffer.from(parsed.data, 'base64').toString('utf8')).toBe('[]');
    }
  });
});
