// Which wire type each top-level Parquet column becomes, and how its values are read, decided from
// the file's own physical and logical types. Nested, binary and exotic columns are refused here,
// each named with what it is, so the source can list them all in one error.

import type { SchemaElement, SchemaTree } from 'hyparquet';
import type { WireType } from '../schema/types.js';
import type { ParquetTimeUnit, ParquetValueRead } from './parquet-values.js';

/** A column mstrpush can load. */
export interface ParquetColumnPlan {
  name: string;
  /** The file's type in words, e.g. `INT64 TIMESTAMP(MICROS, UTC)`, for messages and docs. */
  parquetType: string;
  wireType: WireType;
  read: ParquetValueRead;
  /** The reader must hand over the stored integer or bytes, not its own (lossy) decimal number. */
  rawDecimal: boolean;
}

/** A column mstrpush does not load; `what` names its kind, e.g. `LIST`, `STRUCT`, `BINARY`. */
export interface RefusedParquetColumn {
  name: string;
  what: string;
  reason: 'nested' | 'binary' | 'unsupported';
}

export type ParquetColumnDecision = ({ refused?: undefined } & ParquetColumnPlan) | ({ refused: true } & RefusedParquetColumn);

export interface ParquetPlanOptions {
  /** Read BYTE_ARRAY columns without a logical type as UTF-8 text instead of refusing them. */
  binaryAsString?: boolean;
}

// The reader leaves unknown logical types as raw Thrift objects without a `type`.
type LogicalLike = { type?: string; unit?: string; isAdjustedToUTC?: boolean; bitWidth?: number; isSigned?: boolean; scale?: number };

function logicalOf(element: SchemaElement): LogicalLike | undefined {
  return element.logical_type as LogicalLike | undefined;
}

function unitOf(value: string | undefined): ParquetTimeUnit | undefined {
  return value === 'MILLIS' || value === 'MICROS' || value === 'NANOS' ? value : undefined;
}

function plan(
  name: string,
  parquetType: string,
  wireType: WireType,
  read: ParquetValueRead,
  rawDecimal = false,
): ParquetColumnDecision {
  return { name, parquetType, wireType, read, rawDecimal };
}

function refuse(name: string, what: string, reason: RefusedParquetColumn['reason']): ParquetColumnDecision {
  return { refused: true, name, what, reason };
}

function nestedKind(node: SchemaTree): string {
  const element = node.element;
  const logical = logicalOf(element)?.type;
  if (logical === 'LIST' || element.converted_type === 'LIST' || element.repetition_type === 'REPEATED') return 'LIST';
  if (logical === 'MAP' || element.converted_type === 'MAP' || element.converted_type === 'MAP_KEY_VALUE') return 'MAP';
  if (logical === 'VARIANT') return 'VARIANT';
  return 'STRUCT';
}

/** Decides every top-level column of a file, in file order. */
export function planParquetColumns(root: SchemaTree, options: ParquetPlanOptions = {}): ParquetColumnDecision[] {
  return root.children.map((node) => {
    const name = node.element.name;
    if (node.children.length > 0 || node.element.repetition_type === 'REPEATED') {
      return refuse(name, nestedKind(node), 'nested');
    }
    return planPrimitive(node.element, options);
  });
}

function planPrimitive(element: SchemaElement, options: ParquetPlanOptions): ParquetColumnDecision {
  const name = element.name;
  const logical = logicalOf(element);
  const ltype = logical?.type;
  const ctype = element.converted_type;
  const physical = element.type;

  if (ltype === 'NULL') return plan(name, `${physical ?? ''} NULL`.trim(), 'STRING', { kind: 'null' });
  if (ltype === 'DECIMAL' || ctype === 'DECIMAL') {
    const scale = logical?.scale ?? element.scale ?? 0;
    const precision = (logical as { precision?: number } | undefined)?.precision ?? element.precision;
    const storage = physical === 'FIXED_LEN_BYTE_ARRAY' ? `FIXED_LEN_BYTE_ARRAY(${element.type_length ?? '?'})` : physical;
    return plan(name, `${storage} DECIMAL(${precision ?? '?'}, ${scale})`, 'BIGDECIMAL', { kind: 'decimal', scale }, true);
  }

  switch (physical) {
    case 'BOOLEAN':
      return plan(name, 'BOOLEAN', 'BOOL', { kind: 'boolean' });
    case 'INT32':
      return planInt32(element, logical);
    case 'INT64':
      return planInt64(element, logical);
    case 'INT96':
      return plan(name, 'INT96 (legacy timestamp)', 'DATETIME', { kind: 'int96' });
    case 'FLOAT':
      return plan(name, 'FLOAT', 'DOUBLE', { kind: 'float', bits: 32 });
    case 'DOUBLE':
      return plan(name, 'DOUBLE', 'DOUBLE', { kind: 'float', bits: 64 });
    case 'BYTE_ARRAY':
      return planByteArray(element, logical, options);
    case 'FIXED_LEN_BYTE_ARRAY':
      return planFixed(element, logical);
    default:
      return refuse(name, physical ?? 'a column without a type', 'unsupported');
  }
}

function planInt32(element: SchemaElement, logical: LogicalLike | undefined): ParquetColumnDecision {
  const name = element.name;
  const ltype = logical?.type;
  const ctype = element.converted_type;
  if (ltype === 'DATE' || ctype === 'DATE') return plan(name, 'INT32 DATE', 'DATE', { kind: 'date' });
  if (ltype === 'TIME' || ctype === 'TIME_MILLIS') {
    return plan(name, 'INT32 TIME(MILLIS)', 'TIME', { kind: 'time', unit: 'MILLIS' });
  }
  if (ltype === 'INTEGER' || (ctype !== undefined && /^U?INT_/.test(ctype))) {
    const signed = ltype === 'INTEGER' ? logical?.isSigned !== false : !ctype!.startsWith('U');
    const bits = ltype === 'INTEGER' ? (logical?.bitWidth ?? 32) : Number(ctype!.replace(/^U?INT_/, ''));
    const label = `INT32 ${signed ? 'INT' : 'UINT'}${bits}`;
    // Unsigned 32-bit values reach 4,294,967,295, past INTEGER's int32 range.
    return plan(name, label, !signed && bits >= 32 ? 'BIGINTEGER' : 'INTEGER', { kind: 'integer' });
  }
  return plan(name, 'INT32', 'INTEGER', { kind: 'integer' });
}

function planInt64(element: SchemaElement, logical: LogicalLike | undefined): ParquetColumnDecision {
  const name = element.name;
  const ltype = logical?.type;
  const ctype = element.converted_type;
  if (ltype === 'TIMESTAMP' || ctype === 'TIMESTAMP_MILLIS' || ctype === 'TIMESTAMP_MICROS') {
    const unit = unitOf(logical?.unit) ?? (ctype === 'TIMESTAMP_MILLIS' ? 'MILLIS' : ctype === 'TIMESTAMP_MICROS' ? 'MICROS' : undefined);
    if (unit === undefined) return refuse(name, 'TIMESTAMP of an unknown unit', 'unsupported');
    // Converted-type-only timestamps predate the flag and are UTC by definition.
    const utc = ltype === 'TIMESTAMP' ? logical?.isAdjustedToUTC !== false : true;
    return plan(name, `INT64 TIMESTAMP(${unit}${utc ? ', UTC' : ''})`, 'DATETIME', { kind: 'timestamp', unit });
  }
  if (ltype === 'TIME' || ctype === 'TIME_MICROS') {
    const unit = unitOf(logical?.unit) ?? (ctype === 'TIME_MICROS' ? 'MICROS' : undefined);
    if (unit === undefined) return refuse(name, 'TIME of an unknown unit', 'unsupported');
    return plan(name, `INT64 TIME(${unit})`, 'TIME', { kind: 'time', unit });
  }
  const unsigned = ltype === 'INTEGER' ? logical?.isSigned === false : ctype !== undefined && ctype.startsWith('UINT_');
  if (unsigned) {
    // Up to 18,446,744,073,709,551,615: past BIGINTEGER's int64, and exact only as a decimal.
    return plan(name, 'INT64 UINT64', 'BIGDECIMAL', { kind: 'integer' });
  }
  return plan(name, 'INT64', 'BIGINTEGER', { kind: 'integer' });
}

function planByteArray(element: SchemaElement, logical: LogicalLike | undefined, options: ParquetPlanOptions): ParquetColumnDecision {
  const name = element.name;
  const ltype = logical?.type;
  const ctype = element.converted_type;
  if (ltype === 'STRING' || ctype === 'UTF8') return plan(name, 'BYTE_ARRAY STRING', 'STRING', { kind: 'text' });
  if (ltype === 'ENUM' || ctype === 'ENUM') return plan(name, 'BYTE_ARRAY ENUM', 'STRING', { kind: 'text' });
  if (ltype === 'JSON' || ctype === 'JSON') return plan(name, 'BYTE_ARRAY JSON', 'STRING', { kind: 'text' });
  if (ltype === 'BSON' || ctype === 'BSON') return refuse(name, 'BSON', 'binary');
  if (ltype === 'GEOMETRY' || ltype === 'GEOGRAPHY') return refuse(name, ltype, 'binary');
  if (options.binaryAsString === true) return plan(name, 'BYTE_ARRAY (read as text)', 'STRING', { kind: 'text' });
  return refuse(name, 'BINARY', 'binary');
}

function planFixed(element: SchemaElement, logical: LogicalLike | undefined): ParquetColumnDecision {
  const name = element.name;
  const ltype = logical?.type;
  const length = element.type_length;
  if (ltype === 'UUID' && length === 16) return plan(name, 'FIXED_LEN_BYTE_ARRAY(16) UUID', 'STRING', { kind: 'uuid' });
  if (ltype === 'FLOAT16' && length === 2) return plan(name, 'FIXED_LEN_BYTE_ARRAY(2) FLOAT16', 'DOUBLE', { kind: 'float', bits: 16 });
  if (ltype === 'INTERVAL' || element.converted_type === 'INTERVAL') return refuse(name, 'INTERVAL', 'unsupported');
  return refuse(name, `FIXED_LEN_BYTE_ARRAY(${length ?? '?'}) (binary)`, 'binary');
}
