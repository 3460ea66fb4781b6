import { describe, expect, it } from '@jest/globals';
import {
  mergeOverrides,
  overridesForTable,
  parseRoleOverrides,
  parseSchemaFile,
  parseTypeOverrides,
} from '../../src/schema/overrides.js';

function schemaError(text: string): unknown {
  try {
    parseSchemaFile(text, 'schema.json');
  } catch (error) {
    return error;
  }
  throw new Error('expected parseSchemaFile to fail');
}

describe('parseTypeOverrides', () => {
  it('parses COLUMN=TYPE with type names in any case and the BOOLEAN alias', () => {
    expect(parseTypeOverrides(['amount=BIGDECIMAL', 'zip=string', 'flag=Boolean', 'a=b=Date'])).toEqual(
      new Map([
        ['amount', 'BIGDECIMAL'],
        ['zip', 'STRING'],
        ['flag', 'BOOL'],
        ['a=b', 'DATE'],
      ]),
    );
  });

  it.each(['amount', '=STRING', 'amount='])('rejects the malformed argument %s, naming it', (arg) => {
    expect(() => parseTypeOverrides([arg])).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringContaining(JSON.stringify(arg)) }),
    );
  });

  it('rejects an unknown type and suggests the right one', () => {
    expect(() => parseTypeOverrides(['price=FLOAT'])).toThrow(
      expect.objectContaining({
        code: 'USAGE',
        message: '--type "price=FLOAT": "FLOAT" is not a data type',
        hint: expect.stringMatching(/^did you mean DOUBLE\? types are STRING, INTEGER/),
      }),
    );
  });

  it('rejects two different types for one column but allows a repeat', () => {
    expect(parseTypeOverrides(['a=DOUBLE', 'a=double']).get('a')).toBe('DOUBLE');
    expect(() => parseTypeOverrides(['a=DOUBLE', 'a=STRING'])).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('parseRoleOverrides', () => {
  it('maps --attribute and --metric columns to roles', () => {
    expect(parseRoleOverrides(['store_no'], ['score'])).toEqual(
      new Map([
        ['store_no', 'attribute'],
        ['score', 'metric'],
      ]),
    );
  });

  it('rejects a column given both roles', () => {
    expect(() => parseRoleOverrides(['x'], ['x'])).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('parseSchemaFile', () => {
  it('reads global and per-table columns, as type names or objects', () => {
    const schema = parseSchemaFile(
      JSON.stringify({
        columns: { zip: 'STRING', amount: { type: 'bigdecimal', role: 'metric' } },
        tables: { sales: { columns: { zip: 'INTEGER', 'store no': { role: 'Attribute' } } } },
      }),
      'schema.json',
    );
    expect(schema.columns.types).toEqual(new Map([['zip', 'STRING'], ['amount', 'BIGDECIMAL']]));
    expect(schema.columns.roles).toEqual(new Map([['amount', 'metric']]));
    const sales = overridesForTable(schema, 'sales');
    expect(sales.types).toEqual(new Map([['zip', 'INTEGER'], ['amount', 'BIGDECIMAL']]));
    expect(sales.roles).toEqual(new Map([['amount', 'metric'], ['store no', 'attribute']]));
    expect(overridesForTable(schema, 'other')).toBe(schema.columns);
  });

  it('accepts a byte order mark and an empty object', () => {
    const schema = parseSchemaFile('\ufeff{}', 'schema.json');
    expect(schema.columns.types.size).toBe(0);
    expect(schema.tables.size).toBe(0);
  });

  it.each([
    ['{"columns": {"amount": "FLOAT"}}', 'schema.json: $.columns.amount: "FLOAT" is not a data type'],
    ['{"columns": {"amount": {"type": 3}}}', 'schema.json: $.columns.amount.type: 3 is not a data type'],
    ['{"columns": {"amount": {"role": "measure"}}}', 'schema.json: $.columns.amount.role: "measure" is not a role'],
    ['{"columns": {"amount": {}}}', 'schema.json: $.columns.amount: needs "type", "role" or both'],
    ['{"columns": {"amount": {"typ": "DOUBLE"}}}', 'schema.json: $.columns.amount.typ: unknown key'],
    ['{"columns": {"unit price": []}}', 'schema.json: $.columns["unit price"]: expected a type name or an object'],
    ['{"column": {}}', 'schema.json: $.column: unknown key'],
    ['{"tables": {"sales": {"columns": {"x": "NOPE"}}}}', 'schema.json: $.tables.sales.columns.x: "NOPE" is not a data type'],
    ['{"tables": []}', 'schema.json: $.tables: expected an object, found an array'],
    ['[]', 'schema.json: $: expected an object, found an array'],
    ['{"columns": ', 'schema.json: not valid JSON'],
  ])('rejects %s with INPUT_SCHEMA naming the file and path', (text, message) => {
    const error = schemaError(text);
    expect(error).toMatchObject({ code: 'INPUT_SCHEMA', location: { file: 'schema.json' } });
    expect((error as Error).message.startsWith(message)).toBe(true);
  });
});

describe('mergeOverrides', () => {
  it('lets later layers win per column', () => {
    const merged = mergeOverrides(
      { types: new Map([['a', 'DOUBLE'], ['b', 'STRING']]), roles: new Map([['a', 'metric']]) },
      { types: new Map([['a', 'BIGDECIMAL']]), roles: new Map([['a', 'attribute']]) },
    );
    expect(merged.types).toEqual(new Map([['a', 'BIGDECIMAL'], ['b', 'STRING']]));
    expect(merged.roles).toEqual(new Map([['a', 'attribute']]));
  });
});
