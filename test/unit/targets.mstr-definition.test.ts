import { describe, expect, it } from '@jest/globals';
import { parseDatasetDefinition } from '../../src/targets/mstr/definition.js';

function definitionBody(availableObjects: Record<string, unknown>, root: Record<string, unknown> = {}): unknown {
  return { ...root, result: { definition: { availableObjects } } };
}

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseDatasetDefinition', () => {
  it('reads tables, column types and roles from a full definition', () => {
    const body = definitionBody(
      {
        tables: [{ name: 'sales', id: 'T1' }, { name: 'stores' }],
        columns: [
          { tableName: 'sales', columnName: 'Store', dataType: 'INTEGER' },
          { tableName: 'sales', columnName: 'Paid', dataType: 'Boolean' },
          { tableName: 'sales', columnName: 'Amount', dataType: 'double' },
          { tableName: 'stores', columnName: 'Store', dataType: 'INTEGER' },
          { tableName: 'stores', columnName: 'Open', dataType: 'BOOLEAN' },
        ],
        attributes: [
          {
            name: 'Store',
            forms: [
              {
                category: 'ID',
                expressions: [
                  { tableName: 'sales', columnName: 'Store' },
                  { tableName: 'stores', columnName: 'Store' },
                ],
              },
            ],
          },
          { name: 'Paid', forms: [{ expressions: [{ tableName: 'sales', columnName: 'Paid' }] }] },
          { name: 'Open', forms: [{ expressions: [{ tableName: 'stores', columnName: 'Open' }] }] },
        ],
        metrics: [{ name: 'Amount', expressions: [{ tableName: 'sales', columnName: 'Amount' }] }],
      },
      { id: 'D13539E5433CDB837363F086C6DA6B5C', name: 'Sales model' },
    );
    expect(parseDatasetDefinition('ignored', body)).toEqual({
      id: 'D13539E5433CDB837363F086C6DA6B5C',
      name: 'Sales model',
      tables: [
        {
          name: 'sales',
          columns: [
            { name: 'Store', type: 'INTEGER', role: 'attribute' },
            { name: 'Paid', type: 'BOOL', role: 'attribute' },
            { name: 'Amount', type: 'DOUBLE', role: 'metric' },
          ],
        },
        {
          name: 'stores',
          columns: [
            { name: 'Store', type: 'INTEGER', role: 'attribute' },
            { name: 'Open', type: 'BOOL', role: 'attribute' },
          ],
        },
      ],
    });
  });

  it('leaves type and role undefined when the server does not send them or sends unknown types', () => {
    const body = definitionBody({
      tables: [{ name: 't' }],
      columns: [
        { tableName: 't', columnName: 'a' },
        { tableName: 't', columnName: 'b', dataType: 'GEOGRAPHY' },
        { tableName: 't', columnName: 'c', dataType: 7 },
      ],
    });
    expect(parseDatasetDefinition('D1', body).tables).toEqual([
      {
        name: 't',
        columns: [
          { name: 'a', type: undefined, role: undefined },
          { name: 'b', type: undefined, role: undefined },
          { name: 'c', type: undefined, role: undefined },
        ],
      },
    ]);
  });

  it('gives tables without a column list no columns and falls back to the requested id', () => {
    const definition = parseDatasetDefinition('D2', definitionBody({ tables: [{ name: 'a' }, { name: 'b' }] }));
    expect(definition).toEqual({ id: 'D2', name: undefined, tables: [{ name: 'a', columns: [] }, { name: 'b', columns: [] }] });
  });

  it('skips columns of unknown tables, nameless tables and malformed role entries', () => {
    const body = definitionBody({
      tables: [{ name: 't' }, { id: 'no-name' }],
      columns: [
        { tableName: 'other', columnName: 'x', dataType: 'STRING' },
        { tableName: 't', columnName: 'y', dataType: 'STRING' },
        { tableName: 't', dataType: 'STRING' },
      ],
      attributes: [{ name: 'broken', forms: 'nope' }, { name: 'also', forms: [{ expressions: [{ tableName: 't' }] }] }],
      metrics: 'not a list',
    });
    expect(parseDatasetDefinition('D3', body).tables).toEqual([
      { name: 't', columns: [{ name: 'y', type: 'STRING', role: undefined }] },
    ]);
  });

  it('throws HTTP_BAD_RESPONSE naming the dataset when the table list is missing', () => {
    for (const body of [null, undefined, {}, { result: {} }, definitionBody({ columns: [] }), definitionBody({ tables: 'x' })]) {
      const error = errorOf(() => parseDatasetDefinition('D404', body));
      expect(error).toMatchObject({ code: 'HTTP_BAD_RESPONSE', exitCode: 6 });
      expect((error as Error).message).toContain('D404');
    }
  });
});
