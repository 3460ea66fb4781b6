// The Parquet type mapping: every physical type with its logical and legacy converted annotations
// becomes one wire type and one way of reading values; nested and binary columns are refused.

import type { SchemaElement, SchemaTree } from 'hyparquet';
import { planParquetColumns } from '../../src/sources/parquet-schema.js';
import type { ParquetPlanOptions } from '../../src/sources/parquet-schema.js';

function leaf(element: SchemaElement): SchemaTree {
  return { element, children: [], count: 1, path: [element.name] };
}

function group(element: SchemaElement, children: SchemaTree[]): SchemaTree {
  return { element: { ...element, num_children: children.length }, children, count: 1 + children.reduce((n, c) => n + c.count, 0), path: [element.name] };
}

function planOne(element: Omit<SchemaElement, 'name'>, options?: ParquetPlanOptions) {
  const root = group({ name: 'schema' }, [leaf({ name: 'c', repetition_type: 'OPTIONAL', ...element })]);
  return planParquetColumns(root, options)[0]!;
}

const TIME = (unit: 'MILLIS' | 'MICROS' | 'NANOS', isAdjustedToUTC = true) => ({ type: 'TIME' as const, unit, isAdjustedToUTC });
const TIMESTAMP = (unit: 'MILLIS' | 'MICROS' | 'NANOS', isAdjustedToUTC = true) => ({ type: 'TIMESTAMP' as const, unit, isAdjustedToUTC });
const INTEGER = (bitWidth: number, isSigned: boolean) => ({ type: 'INTEGER' as const, bitWidth, isSigned });

describe('planParquetColumns on primitive columns', () => {
  it.each<[string, string, Omit<SchemaElement, 'name'>, unknown]>([
    ['BOOLEAN', 'BOOL', { type: 'BOOLEAN' }, { kind: 'boolean' }],
    ['INT32', 'INTEGER', { type: 'INT32' }, { kind: 'integer' }],
    ['INT32 INT_8', 'INTEGER', { type: 'INT32', converted_type: 'INT_8' }, { kind: 'integer' }],
    ['INT32 INTEGER(16, signed)', 'INTEGER', { type: 'INT32', logical_type: INTEGER(16, true) }, { kind: 'integer' }],
    ['INT32 UINT_8', 'INTEGER', { type: 'INT32', converted_type: 'UINT_8' }, { kind: 'integer' }],
    ['INT32 INTEGER(16, unsigned)', 'INTEGER', { type: 'INT32', logical_type: INTEGER(16, false) }, { kind: 'integer' }],
    ['INT32 UINT_32', 'BIGINTEGER', { type: 'INT32', converted_type: 'UINT_32' }, { kind: 'integer' }],
    ['INT32 INTEGER(32, unsigned)', 'BIGINTEGER', { type: 'INT32', logical_type: INTEGER(32, false) }, { kind: 'integer' }],
    ['INT64', 'BIGINTEGER', { type: 'INT64' }, { kind: 'integer' }],
    ['INT64 INTEGER(64, signed)', 'BIGINTEGER', { type: 'INT64', logical_type: INTEGER(64, true) }, { kind: 'integer' }],
    ['INT64 UINT_64', 'BIGDECIMAL', { type: 'INT64', converted_type: 'UINT_64' }, { kind: 'integer' }],
    ['INT64 INTEGER(64, unsigned)', 'BIGDECIMAL', { type: 'INT64', logical_type: INTEGER(64, false) }, { kind: 'integer' }],
    ['FLOAT', 'DOUBLE', { type: 'FLOAT' }, { kind: 'float', bits: 32 }],
    ['DOUBLE', 'DOUBLE', { type: 'DOUBLE' }, { kind: 'float', bits: 64 }],
    ['FLOAT16', 'DOUBLE', { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 2, logical_type: { type: 'FLOAT16' } }, { kind: 'float', bits: 16 }],
    ['INT32 DECIMAL', 'BIGDECIMAL', { type: 'INT32', converted_type: 'DECIMAL', precision: 9, scale: 2 }, { kind: 'decimal', scale: 2 }],
    ['INT64 DECIMAL (logical only)', 'BIGDECIMAL', { type: 'INT64', logical_type: { type: 'DECIMAL', precision: 18, scale: 6 } }, { kind: 'decimal', scale: 6 }],
    ['FIXED DECIMAL', 'BIGDECIMAL', { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, converted_type: 'DECIMAL', precision: 38, scale: 10 }, { kind: 'decimal', scale: 10 }],
    ['BYTE_ARRAY DECIMAL', 'BIGDECIMAL', { type: 'BYTE_ARRAY', converted_type: 'DECIMAL', precision: 50, scale: 0 }, { kind: 'decimal', scale: 0 }],
    ['UTF8', 'STRING', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }, { kind: 'text' }],
    ['STRING', 'STRING', { type: 'BYTE_ARRAY', logical_type: { type: 'STRING' } }, { kind: 'text' }],
    ['ENUM', 'STRING', { type: 'BYTE_ARRAY', converted_type: 'ENUM' }, { kind: 'text' }],
    ['JSON', 'STRING', { type: 'BYTE_ARRAY', logical_type: { type: 'JSON' } }, { kind: 'text' }],
    ['UUID', 'STRING', { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } }, { kind: 'uuid' }],
    ['DATE', 'DATE', { type: 'INT32', converted_type: 'DATE' }, { kind: 'date' }],
    ['TIME_MILLIS', 'TIME', { type: 'INT32', converted_type: 'TIME_MILLIS' }, { kind: 'time', unit: 'MILLIS' }],
    ['TIME(MICROS)', 'TIME', { type: 'INT64', logical_type: TIME('MICROS', false) }, { kind: 'time', unit: 'MICROS' }],
    ['TIME(NANOS)', 'TIME', { type: 'INT64', logical_type: TIME('NANOS') }, { kind: 'time', unit: 'NANOS' }],
    ['TIME_MICROS', 'TIME', { type: 'INT64', converted_type: 'TIME_MICROS' }, { kind: 'time', unit: 'MICROS' }],
    ['TIMESTAMP_MILLIS', 'DATETIME', { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' }, { kind: 'timestamp', unit: 'MILLIS' }],
    ['TIMESTAMP_MICROS', 'DATETIME', { type: 'INT64', converted_type: 'TIMESTAMP_MICROS' }, { kind: 'timestamp', unit: 'MICROS' }],
    ['TIMESTAMP(NANOS, UTC)', 'DATETIME', { type: 'INT64', logical_type: TIMESTAMP('NANOS') }, { kind: 'timestamp', unit: 'NANOS' }],
    ['TIMESTAMP(MICROS, local)', 'DATETIME', { type: 'INT64', logical_type: TIMESTAMP('MICROS', false) }, { kind: 'timestamp', unit: 'MICROS' }],
    ['INT96', 'DATETIME', { type: 'INT96' }, { kind: 'int96' }],
    ['NULL', 'STRING', { type: 'INT32', logical_type: { type: 'NULL' } }, { kind: 'null' }],
  ])('maps %s to %s', (_, wireType, element, read) => {
    expect(planOne(element)).toMatchObject({ name: 'c', wireType, read });
  });

  it('asks for the stored integer or bytes of decimals, and only of decimals', () => {
    expect(planOne({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 9, converted_type: 'DECIMAL', precision: 20, scale: 2 })).toMatchObject({ rawDecimal: true });
    expect(planOne({ type: 'INT64' })).toMatchObject({ rawDecimal: false });
  });

  it('describes the file type in words', () => {
    expect(planOne({ type: 'INT64', logical_type: TIMESTAMP('MICROS') })).toMatchObject({ parquetType: 'INT64 TIMESTAMP(MICROS, UTC)' });
    expect(planOne({ type: 'INT64', logical_type: TIMESTAMP('NANOS', false) })).toMatchObject({ parquetType: 'INT64 TIMESTAMP(NANOS)' });
    expect(planOne({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 11, converted_type: 'DECIMAL', precision: 25, scale: 2 })).toMatchObject({
      parquetType: 'FIXED_LEN_BYTE_ARRAY(11) DECIMAL(25, 2)',
    });
  });

  it.each<[string, string, Omit<SchemaElement, 'name'>]>([
    ['BYTE_ARRAY', 'BINARY', { type: 'BYTE_ARRAY' }],
    ['BYTE_ARRAY of an unknown logical type', 'BINARY', { type: 'BYTE_ARRAY', logical_type: { field_2555: {} } as unknown as NonNullable<SchemaElement['logical_type']> }],
    ['BSON', 'BSON', { type: 'BYTE_ARRAY', converted_type: 'BSON' }],
    ['FIXED_LEN_BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY(5) (binary)', { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 5 }],
    ['INTERVAL', 'INTERVAL', { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 12, converted_type: 'INTERVAL' }],
  ])('refuses %s as %s', (_, what, element) => {
    expect(planOne(element)).toMatchObject({ refused: true, name: 'c', what });
  });

  it('reads BYTE_ARRAY without a logical type as text when asked, but not fixed-length bytes', () => {
    expect(planOne({ type: 'BYTE_ARRAY' }, { binaryAsString: true })).toMatchObject({ wireType: 'STRING', read: { kind: 'text' } });
    expect(planOne({ type: 'FIXED_LEN_BYTE_ARRAY', type_length: 4 }, { binaryAsString: true })).toMatchObject({ refused: true });
  });
});

describe('planParquetColumns on nested columns', () => {
  it('refuses lists, maps, structs and repeated fields by name, keeping flat columns', () => {
    const root = group({ name: 'schema' }, [
      leaf({ name: 'id', type: 'INT64', repetition_type: 'REQUIRED' }),
      group({ name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST' }, [
        group({ name: 'list', repetition_type: 'REPEATED' }, [leaf({ name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8' })]),
      ]),
      group({ name: 'props', repetition_type: 'OPTIONAL', logical_type: { type: 'MAP' } }, [
        group({ name: 'key_value', repetition_type: 'REPEATED' }, [leaf({ name: 'key', type: 'BYTE_ARRAY' }), leaf({ name: 'value', type: 'INT32' })]),
      ]),
      group({ name: 'point', repetition_type: 'OPTIONAL' }, [leaf({ name: 'x', type: 'DOUBLE' }), leaf({ name: 'y', type: 'DOUBLE' })]),
      leaf({ name: 'scores', type: 'INT32', repetition_type: 'REPEATED' }),
    ]);
    expect(planParquetColumns(root).map((d) => (d.refused ? `${d.name}: ${d.what}` : `${d.name}: ${d.wireType}`))).toEqual([
      'id: BIGINTEGER',
      'tags: LIST',
      'props: MAP',
      'point: STRUCT',
      'scores: LIST',
    ]);
  });
});
