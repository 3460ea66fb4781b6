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
  /** The same fold one cell at a time, for sources that read cells as bytes (see CellFold). */
  readonly cells: CellFold;
}

/** What the pass does with a column's cells: infer its type, only count NULLs, or check each value. */
export const CELL_MODE = { INFER: 0, SKIP: 1, CHECK: 2 } as const;

/**
 * The inferrer's per-cell steps, for a source that classifies cells itself (classifyBytes). Calling
 * them for every cell of every row, in file order, has the same effect as `add`.
 */
export interface CellFold {
  /** Per column, a CELL_MODE; INFER turns into SKIP once the column can only be STRING. */
  readonly modes: Uint8Array;
  /** A NULL cell (null token) in column `c`. */
  addNull(c: number): void;
  /** `n` NULL cells in column `c`. */
  addNulls(c: number, n: number): void;
  /** Whether column `c` still wants its example (the first non-null value). */
  wantsExample(c: number): boolean;
  setExample(c: number, text: string): void;
  /** A non-null cell of VALUE_KIND `kind` in an INFER column. */
  addKind(c: number, kind: number): void;
  /** Whether a cell of `kind` is valid in CHECK column `c`; if not, throw `valueError`. */
  conforms(c: number, kind: number): boolean;
  /** The error for `text` in CHECK column `c`, as `add` throws it. */
  valueError(c: number, text: string, line: number | undefined): InputError;
  /** Counts `n` rows whose cells were all folded in. */
  addRows(n: number): void;
}

const EXAMPLE_LENGTH = 40;

const MODE_INFER = CELL_MODE.INFER;
const MODE_SKIP = CELL_MODE.SKIP;
const MODE_CHECK = CELL_MODE.CHECK;

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

  const setExample = (c: number, cell: string): void => {
    examples[c] = cell.length > EXAMPLE_LENGTH ? `${cell.slice(0, EXAMPLE_LENGTH)}…` : cell;
  };
  const addKind = (c: number, kind: number): void => {
    const before = kinds[c]!;
    const after = before | kind;
    if (after !== before) {
      kinds[c] = after;
      // A column that can only be STRING from here on costs nothing more per cell.
      if (isSettledAsString(after)) modes[c] = MODE_SKIP;
    }
  };
  const conforms = (c: number, kind: number): boolean => (kind & accept[c]!) !== 0 && (kind & reject[c]!) === 0;

  const cells: CellFold = {
    modes,
    addNull: (c) => {
      nullCounts[c]!++;
    },
    addNulls: (c, n) => {
      nullCounts[c]! += n;
    },
    wantsExample: (c) => examples[c] === undefined,
    setExample,
    addKind,
    conforms,
    valueError,
    addRows: (n) => {
      rowCount += n;
    },
  };

  return {
    cells,

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
          if (examples[c] === undefined) setExample(c, cell);
          const mode = modes[c];
          if (mode === MODE_SKIP) continue;
          const kind = classifyValue(cell);
          if (mode === MODE_INFER) addKind(c, kind);
          else if (!conforms(c, kind)) throw valueError(c, cell, batch.lines[r]);
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
