// Turns one row of raw cells into the JSON array text the Push Data API takes in ROW orientation,
// validating and normalising each value on the way: the server may silently null a value it
// dislikes, so nothing leaves here that is not valid for its column type.

import { InputError, InternalError } from '../errors.js';
import type { RawCell, WireType } from '../schema/types.js';
import { DEFAULT_NULL_TOKENS, createNullTokenTest, describeType, normalizeValue, quoteValue } from '../schema/values.js';

/** How to read cells and what to call the input in errors. */
export interface RowSerializerOptions {
  /** Texts that mean NULL in every column; defaults to DEFAULT_NULL_TOKENS. */
  nullTokens?: readonly string[];
  /** What error messages call the input. */
  file?: string;
}

/** Serializes one row; `line` is where the row starts in the input, for error messages. */
export type RowSerializer = (row: readonly RawCell[], line: number) => string;

/** JSON string literal for `text`; most cells need no escaping and are just wrapped in quotes. */
export function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Lone surrogates must be escaped too, or UTF-8 encoding would replace them.
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

function isQuotedOnWire(type: WireType): boolean {
  return type === 'STRING' || type === 'DATE' || type === 'TIME' || type === 'DATETIME';
}

/**
 * The JSON text of one value for a column of `type`, or undefined when the value is not valid
 * for that type. A null cell is `null`; text is taken literally (null tokens are not applied).
 */
export function serializeValue(type: WireType, raw: RawCell): string | undefined {
  if (raw === null) return 'null';
  if (type === 'STRING') return jsonString(raw);
  const wire = normalizeValue(type, raw);
  if (wire === undefined) return undefined;
  // Normalised dates and times hold only digits, '-', ':', '.' and 'T': no escaping needed.
  return isQuotedOnWire(type) ? `"${wire}"` : wire;
}

/**
 * Builds the serializer for rows of `columns`: `[1,"a b",null,true,"2024-01-02T03:04:05.5"]`.
 * Numbers go out as their source text, BOOL as true/false, dates and times in their ISO wire
 * form. A value that does not fit its column's type is an InputError INPUT_VALUE.
 */
export function createRowSerializer(
  columns: readonly { name: string; type: WireType }[],
  options: RowSerializerOptions = {},
): RowSerializer {
  const width = columns.length;
  const types = columns.map((column) => column.type);
  const quoted = types.map(isQuotedOnWire);
  const isNullToken = createNullTokenTest(options.nullTokens ?? DEFAULT_NULL_TOKENS);
  const file = options.file;

  const valueError = (c: number, value: string, line: number): InputError => {
    const { name, type } = columns[c]!;
    return new InputError('INPUT_VALUE', `column ${JSON.stringify(name)}: ${quoteValue(value)} is not a valid ${type}`, {
      location: { ...(file === undefined ? {} : { file }), line, column: name, value },
      hint: `${describeType(type)}. Fix the value, add it to the null tokens, or load into a column of another type`,
    });
  };

  return (row, line) => {
    if (row.length !== width) {
      throw new InternalError(`row at line ${line} has ${row.length} cells for ${width} columns`);
    }
    let out = '[';
    for (let c = 0; c < width; c++) {
      if (c !== 0) out += ',';
      const cell = row[c];
      if (cell === null || cell === undefined || isNullToken(cell)) {
        out += 'null';
        continue;
      }
      const type = types[c]!;
      if (type === 'STRING') {
        out += jsonString(cell);
        continue;
      }
      const wire = normalizeValue(type, cell);
      if (wire === undefined) throw valueError(c, cell, line);
      out += quoted[c] ? `"${wire}"` : wire;
    }
    return `${out}]`;
  };
}
