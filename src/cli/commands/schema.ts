// `schema`: what mstrpush would create for the given files, without contacting any server.

import { checkInputSpecs, closeAll, parseInputSpec } from '../../pipeline/inputs.js';
import { createRuntime, openInputSources, readSchemaOverrides } from '../context.js';
import type { CommandContext } from '../context.js';
import { count, formatColumnsTable } from '../format.js';
import { scanInputs } from './load.js';

export async function runSchema(files: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const specs = files.map(parseInputSpec);
  checkInputSpecs(specs);
  const runtime = await createRuntime(opts, ctx, { server: false });
  try {
    const sources = await openInputSources(specs, runtime, opts);
    try {
      // NULL counts and examples need every cell.
      const scanned = await scanInputs(sources, await readSchemaOverrides(opts, runtime, sources), runtime, 'profile');
      const tables = scanned.map(({ named, scan }) => ({
        name: named.table,
        file: named.source.displayName,
        format: named.source.format,
        rows: scan.rows,
        columns: scan.columns.map((c, i) => ({ ...c, nulls: scan.profile[i]?.nulls ?? 0, example: scan.profile[i]?.example })),
      }));
      const text = tables
        .map((t) => `Table ${t.name} (${t.file}, ${count(t.rows, 'row')})\n${formatColumnsTable(t.columns)}`)
        .join('\n\n');
      const json = {
        tables: tables.map((t) => ({
          name: t.name,
          file: t.file,
          format: t.format,
          rows: t.rows,
          columns: t.columns.map((c) => ({ name: c.name, type: c.type, role: c.role, nulls: c.nulls })),
        })),
      };
      return runtime.emit({ json, text });
    } finally {
      await closeAll(sources);
    }
  } finally {
    await runtime.close();
  }
}
