// Attribute or metric for each column: numeric columns are metrics as in the official client,
// except columns whose names say they identify something; explicit overrides beat both.

import { UsageError } from '../errors.js';
import { checkColumnsExist } from './overrides.js';
import { NUMERIC_TYPES } from './types.js';
import type { ColumnRole, ColumnSchema, WireType } from './types.js';

/** `--attribute`/`--metric` (and schema-file roles) by column name. */
export type RoleOverrides = ReadonlyMap<string, ColumnRole>;

/** Why a column got its role. */
export type RoleSource = 'type' | 'identifier-name' | 'override';

/** A column with its role and the reason for it. */
export interface RoledColumn extends ColumnSchema {
  roleSource: RoleSource;
}

const IDENTIFIER_WORDS: ReadonlySet<string> = new Set(['id', 'key', 'code']);
const SEPARATORS = /[\s_.-]+/;
// A lower-case letter or digit, then a capitalised suffix: customerId, orderID, productKey.
const CAMEL_SUFFIX = /[a-z0-9](?:Id|ID|Key|Code)$/;

/**
 * Whether a column name plainly names an identifier: `id`, `key`, `code`; a last word (after
 * `_`, `-`, `.` or a space) of id, key or code, or `id` first in a two-word name (`id_customer`); a
 * camelCase suffix `Id`, `ID`, `Key` or `Code`; or any name ending in "code" (`zipcode`,
 * `barcode`). Words that merely end in the letters, such as `paid`, `valid` or `monkey`, do not
 * count, and neither do run-together lower-case names such as `userid` (use --attribute).
 */
export function isIdentifierName(name: string): boolean {
  const trimmed = name.trim();
  const lower = trimmed.toLowerCase();
  if (IDENTIFIER_WORDS.has(lower)) return true;
  const words = lower.split(SEPARATORS).filter((word) => word.length > 0);
  if (words.length > 1 && IDENTIFIER_WORDS.has(words[words.length - 1]!)) return true;
  // id_customer, as some naming conventions put it; longer names ("ID card count") say more.
  if (words.length === 2 && words[0] === 'id') return true;
  if (CAMEL_SUFFIX.test(trimmed)) return true;
  // Codes are labels even when numeric, and English has almost no other words ending in "code".
  return lower.endsWith('code');
}

/** The role a column gets without overrides, and why. */
export function defaultRole(name: string, type: WireType): { role: ColumnRole; roleSource: RoleSource } {
  if (!NUMERIC_TYPES.has(type)) return { role: 'attribute', roleSource: 'type' };
  if (isIdentifierName(name)) return { role: 'attribute', roleSource: 'identifier-name' };
  return { role: 'metric', roleSource: 'type' };
}

/**
 * Gives every column its role. Overrides must name existing columns, and a metric must be
 * numeric; both mistakes are UsageErrors.
 */
export function assignRoles(
  columns: readonly { name: string; type: WireType }[],
  roleOverrides: RoleOverrides = new Map(),
  file?: string,
): RoledColumn[] {
  checkColumnsExist(
    roleOverrides.keys(),
    columns.map((column) => column.name),
    '--attribute/--metric',
    file,
  );
  return columns.map(({ name, type }) => {
    const override = roleOverrides.get(name);
    if (override === undefined) return { name, type, ...defaultRole(name, type) };
    if (override === 'metric' && !NUMERIC_TYPES.has(type)) {
      throw new UsageError(`column ${JSON.stringify(name)} is ${type}, and a metric must be numeric`, {
        hint: `if its values are numbers, also give --type ${name}=DOUBLE (or INTEGER, BIGINTEGER, BIGDECIMAL); otherwise drop --metric ${name}`,
      });
    }
    return { name, type, role: override, roleSource: 'override' };
  });
}
