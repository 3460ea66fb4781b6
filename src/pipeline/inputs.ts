// Turns the command line's `file[:Table]` arguments into named table sources.

import path from 'node:path';
import { UsageError } from '../errors.js';
import type { TableSource } from '../sources/types.js';

export interface InputSpec {
  /** The path as given, or `-` for standard input. */
  path: string;
  /** The table name given after the colon, if any. */
  table: string | undefined;
}

/** Prefixed by the CLI to `-:Table` arguments so the option parser leaves them alone. */
export const STDIN_MARKER = '\u0000';

const KNOWN_EXTENSIONS = /(\.(csv|tsv|txt|psv|dat|parquet|pq))?(\.gz)?$/i;

/**
 * `sales.csv` → table from the file name; `customers.csv:Customers` → table "Customers";
 * `-:Sales` → stdin as table "Sales". A colon followed by a path separator is part of the path.
 */
export function parseInputSpec(raw: string): InputSpec {
  const arg = raw.startsWith(STDIN_MARKER) ? raw.slice(STDIN_MARKER.length) : raw;
  const colon = arg.lastIndexOf(':');
  if (colon > 0) {
    const table = arg.slice(colon + 1);
    if (table && !table.includes('/') && !table.includes('\\')) {
      return { path: arg.slice(0, colon), table };
    }
  }
  if (colon === arg.length - 1 && colon > 0) {
    throw new UsageError(`"${arg}" ends with ":" but names no table`, { hint: 'write file.csv:TableName' });
  }
  return { path: arg, table: undefined };
}

/** The default table name: the file name without its data extensions; `data` for stdin. */
export function defaultTableName(filePath: string): string {
  if (filePath === '-') return 'data';
  const base = path.basename(filePath).replace(KNOWN_EXTENSIONS, '');
  return base || path.basename(filePath);
}

export function tableNameOf(spec: InputSpec): string {
  return spec.table ?? defaultTableName(spec.path);
}

/** Two inputs may not feed the same table of one dataset, and only one may read stdin. */
export function checkInputSpecs(specs: readonly InputSpec[]): void {
  if (specs.length === 0) throw new UsageError('no input file given');
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const name = tableNameOf(spec);
    const previous = seen.get(name.toLowerCase());
    if (previous !== undefined) {
      throw new UsageError(`"${previous}" and "${spec.path}" would both load table "${name}"`, {
        hint: 'give one of them another table name: file.csv:OtherName',
      });
    }
    seen.set(name.toLowerCase(), spec.path);
  }
  if (specs.filter((s) => s.path === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
}

export interface NamedSource {
  table: string;
  source: TableSource;
}

export async function closeAll(sources: readonly NamedSource[]): Promise<void> {
  await Promise.allSettled(sources.map((s) => s.source.close()));
}
