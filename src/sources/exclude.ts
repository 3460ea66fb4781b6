// Leaves named columns out of a source: `--exclude col` for inputs that cannot skip columns
// themselves (CSV). Parquet skips them while decoding instead.

import type { RawCell } from '../schema/types.js';
import type { RowBatch, TableSource } from './types.js';

export function excludeColumns<S extends TableSource>(source: S, names: ReadonlySet<string>): S {
  const keep = source.columns.flatMap((name, i) => (names.has(name) ? [] : [i]));
  if (keep.length === source.columns.length) return source;
  const columns = keep.map((i) => source.columns[i]!);
  const declaredTypes = source.declaredTypes ? keep.map((i) => source.declaredTypes![i]!) : undefined;
  const project = (row: RawCell[]): RawCell[] => keep.map((i) => row[i] ?? null);
  const view = Object.create(source) as S;
  Object.defineProperties(view, {
    columns: { value: columns },
    declaredTypes: { value: declaredTypes },
    batches: {
      value: async function* (signal?: AbortSignal): AsyncIterable<RowBatch> {
        for await (const batch of source.batches(signal)) yield { ...batch, rows: batch.rows.map(project) };
      },
    },
    close: { value: () => source.close() },
  });
  return view;
}
