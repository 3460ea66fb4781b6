// Whole-file schema inference as a fold over row batches: every cell is looked at, not a sample,
// so one "abc" anywhere in a number column makes it STRING. Columns with a fixed type (override
// or declared by the file) are checked value by value instead, and fail on the first bad one.

import { InputError } from '../errors.js';
import type { RowBatch } from '../sources/types.js';
import { checkColumnsExist } from './overrides.js';
import { assignRoles } from './roles.js';
import type { RoleOverrides, RoleSource } from './roles.js';
import type { ColumnSchema, WireType } from './types.js';
import {
  DEFAULT_NULL_TOKENS,
  classifyValue,
  createNullTokenTest,
  describeType,
  isSettledAsString,
  kindMasksFor,
  quoteValue,
  typeFromKinds,
} from './values.js';

/** Where a column's type came from. */
export type TypeSource = 'inferred' | 'declared' | 'override';

/** A column of the final schema, with what the pass saw for display. */
export interface InferredColumn extends ColumnSchema {
  typeSource: TypeSource;
  roleSource: RoleSource;
  nullCount: number;
  nonNullCount: number;
  /** The first non-null value, shortened, for display; undefined when the column is all NULL. */
  example: string | undefined;
}

/** How to read cells, and which columns have a fixed type. */
export interface SchemaInferrerOptions {
  /** Texts that mean NULL in every column; defaults to DEFAULT_NULL_TOKENS. */
  nullTokens?: readonly string[];
  /** `--type` and schema-file types by column name; every value must then conform. */
  typeOverrides?: ReadonlyMap<string, WireType>;
  /** Types the file declares (Parquet), in column order; overrides still win. */
  declaredTypes?: readonly WireType[];
  /** What error messages call the input. */
  file?: string;
}

/** The running state of one whole-file pass; feed it every batch, then call finish. */
export interface SchemaInferrer {
  /** Folds one batch in. Throws InputError INPUT_VALUE on a value that breaks a fixed type. */
  add(batch: RowBatch): void;
  /** The schema so far, with roles. Role overrides must name columns, and metrics be numeric. */
  finish(roleOverrides?: RoleOverrides): InferredColumn[];
  /** Rows folded in so far. */
  readonly rowCount: number;
}

const EXAMPLE_LENGTH = 40;

// What the pass does with a column's cells.
const MODE_INFER = 0;
const MODE_SKIP = 1;
const MODE_CHECK = 2;

/** Starts a whole-file inference over columns named `columnNames` (in file order). */
export function createSchemaInferrer(
  columnNames: readonly string[],
  options: SchemaInferrerOptions = {},
): SchemaInferrer {
  const width = columnNames.length;
  const file = options.file;
  const typeOverrides = options.typeOverrides ?? new Map<string, WireType>();
  checkColumnsExist(typeOverrides.keys(), columnNames, '--type/--schema', file);
  const declared = options.declaredTypes;
  const isNullToken = createNullTokenTest(options.nullTokens ?? DEFAULT_NULL_TOKENS);

  const fixedTypes: (WireType | undefined)[] = [];
  const typeSources: TypeSource[] = [];
  const modes = new Uint8Array(width);
  const kinds = new Int32Array(width);
  const accept = new Int32Array(width);
  const reject = new Int32Array(width);
  const nullCounts = new Float64Array(width);
  const examples: (string | undefined)[] = new Array<string | undefined>(width).fill(undefined);
  for (let c = 0; c < width; c++) {
    const name = columnNames[c]!;
    const override = typeOverrides.get(name);
    const fixed = override ?? declared?.[c];
    fixedTypes.push(fixed);
    typeSources.push(override !== undefined ? 'override' : fixed !== undefined ? 'declared' : 'inferred');
    if (fixed === undefined) {
      modes[c] = MODE_INFER;
    } else if (fixed === 'STRING') {
      modes[c] = MODE_SKIP;
    } else {
      modes[c] = MODE_CHECK;
      const masks = kindMasksFor(fixed);
      accept[c] = masks.accept;
      reject[c] = masks.reject;
    }
  }
  let rowCount = 0;

  const valueError = (c: number, value: string, line: number | undefined): InputError => {
    const name = columnNames[c]!;
    const type = fixedTypes[c]!;
    const because =
      typeSources[c] === 'override'
        ? `the column was given type ${type} (--type or --schema)`
        : `the file declares the column as ${type}`;
    return new InputError('INPUT_VALUE', `column ${JSON.stringify(name)}: ${quoteValue(value)} is not a valid ${type}`, {
      location: { ...(file === undefined ? {} : { file }), ...(line === undefined ? {} : { line }), column: name, value },
      hint: `${because}; ${describeType(type)}. Fix the value, add it to the null tokens, or choose another type`,
    });
  };

  return {
    add(batch) {
      const rows = batch.rows;
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        for (let c = 0; c < width; c++) {
          const cell = row[c];
          if (cell === null || cell === undefined || isNullToken(cell)) {
            nullCounts[c]!++;
            continue;
          }
          if (examples[c] === undefined) {
            examples[c] = cell.length > EXAMPLE_LENGTH ? `${cell.slice(0, EXAMPLE_LENGTH)}…` : cell;
          }
          const mode = modes[c];
          if (mode === MODE_SKIP) continue;
          const kind = classifyValue(cell);
          if (mode === MODE_INFER) {
            const before = kinds[c]!;
            const after = before | kind;
            if (after !== before) {
              kinds[c] = after;
              // A column that can only be STRING from here on costs nothing more per cell.
              if (isSettledAsString(after)) modes[c] = MODE_SKIP;
            }
          } else if ((kind & accept[c]!) === 0 || (kind & reject[c]!) !== 0) {
            throw valueError(c, cell, batch.lines[r]);
          }
        }
      }
      rowCount += rows.length;
    },

    finish(roleOverrides) {
      const typed = columnNames.map((name, c) => ({ name, type: fixedTypes[c] ?? typeFromKinds(kinds[c]!) }));
      return assignRoles(typed, roleOverrides, file).map((column, c) => ({
        ...column,
        typeSource: typeSources[c]!,
        nullCount: nullCounts[c]!,
        nonNullCount: rowCount - nullCounts[c]!,
        example: examples[c],
      }));
    },

    get rowCount() {
      return rowCount;
    },
  };
}

/**
 * The schema of a source that declares its types (Parquet) without a pass over the data: type
 * overrides win over declared types and roles follow the same rules as for inferred columns.
 * Counts and examples are left empty; use createSchemaInferrer with `declaredTypes` to get them
 * and to check every value against its type.
 */
export function schemaFromDeclaredTypes(
  columnNames: readonly string[],
  declaredTypes: readonly WireType[],
  options: {
    typeOverrides?: ReadonlyMap<string, WireType>;
    roleOverrides?: RoleOverrides;
    file?: string;
  } = {},
): InferredColumn[] {
  const typeOverrides = options.typeOverrides ?? new Map<string, WireType>();
  checkColumnsExist(typeOverrides.keys(), columnNames, '--type/--schema', options.file);
  const typed = columnNames.map((name, c) => {
    const override = typeOverrides.get(name);
    return { name, type: override ?? declaredTypes[c] ?? 'STRING', typeSource: override === undefined ? 'declared' : 'override' } as const;
  });
  return assignRoles(typed, options.roleOverrides, options.file).map((column, c) => ({
    ...column,
    typeSource: typed[c]!.typeSource,
    nullCount: 0,
    nonNullCount: 0,
    example: undefined,
  }));
}
