// `create` and `append`: files in, dataset loaded and published.

import { InputError, PartialUploadError, UsageError, isMstrPushError } from '../../errors.js';
import { closeAll, checkInputSpecs, parseInputSpec, tableNameOf } from '../../pipeline/inputs.js';
import type { InputSpec, NamedSource } from '../../pipeline/inputs.js';
import { loadIntoDataset } from '../../pipeline/load.js';
import type { LoadResult, LoadTable } from '../../pipeline/load.js';
import { scanTable } from '../../pipeline/scan.js';
import type { ScanPurpose, ScanResult } from '../../pipeline/scan.js';
import { createDatasetOnce } from '../../pipeline/create-dataset.js';
import { waitForPublication } from '../../pipeline/publish.js';
import type { MstrClient } from '../../targets/mstr/client.js';
import { openRun } from './run-state.js';
import type { RunSetup } from './run-state.js';
import { buildModel } from '../../targets/mstr/payload.js';
import type { UpdatePolicy } from '../../targets/mstr/payload.js';
import type { DatasetDefinition } from '../../targets/mstr/definition.js';
import type { ColumnSchema, TableSchema, WireType } from '../../schema/types.js';
import { createRuntime, openInputSources, readSchemaOverrides } from '../context.js';
import type { CommandContext, Runtime, SchemaOverrides } from '../context.js';
import { formatLoadResult, loadSummaryJson } from '../format.js';
import type { LoadSummary } from '../format.js';

export async function runCreate(files: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const specs = files.map(parseInputSpec);
  checkInputSpecs(specs);
  const name = String(opts.name ?? '').trim();
  if (!name) throw new UsageError('--name must not be empty');
  const runtime = await createRuntime(opts, ctx, { server: true });
  try {
    if (runtime.settings.target === 'powerbi') return await (await import('./powerbi.js')).createOnPowerBi(specs, name, opts, runtime, ctx.argv);
    const client = await runtime.connect();
    const sources = await openInputSources(specs, runtime, opts);
    try {
      const run = await openRun({ command: 'create', runtime, client, opts, dataset: name, policy: 'replace', sources, argv: ctx.argv });
      if (run.publishing) return runtime.emit(asOutput(await finishPublication(runtime, client, run, 'create')));
      const overrides = await readSchemaOverrides(opts, runtime, sources);
      const scanStarted = cpuMs();
      const scanned = await scanInputs(sources, overrides, runtime);
      const scanCpuMs = cpuMs() - scanStarted;
      const tables: Array<TableSchema & { named: NamedSource; rows: number }> = scanned.map(({ named, scan }) => ({
        name: named.table,
        columns: scan.columns,
        named,
        rows: scan.rows,
      }));

      let datasetId = run.datasetId;
      if (datasetId) {
        runtime.reporter.info(`using dataset ${datasetId}, made by the unfinished run of this command`);
      } else {
        runtime.reporter.step(`creating dataset "${name}"`);
        const model = buildModel(name, tables, {
          ...(typeof opts.description === 'string' ? { description: opts.description } : {}),
          ...(typeof opts.folder === 'string' ? { folderId: opts.folder } : {}),
        });
        const dataset = await createDatasetOnce(client, model, {
          folderId: typeof opts.folder === 'string' ? opts.folder : undefined,
          progress: runtime.reporter,
          signal: runtime.signal,
        });
        datasetId = dataset.id;
        runtime.reporter.stepDone(`dataset "${name}" created: ${datasetId}`);
      }
      await run.journal?.datasetKnown(datasetId);

      const createdId = datasetId;
      const result = await explainLeftovers(createdId, () =>
        loadIntoDataset({
          client,
          datasetId: createdId,
          // A new dataset is loaded with `replace`, which every server version accepts on a first load.
          tables: tables.map((t) => ({ table: t.name, source: t.named.source, columns: t.columns, policy: 'replace' as const })),
          ...loadSettings(runtime, opts, run),
        }),
      );
      return runtime.emit(asOutput(summarize(createdId, name, tables, result, 'create', scanCpuMs)));
    } finally {
      await closeAll(sources);
    }
  } finally {
    await runtime.close();
  }
}

export async function runAppend(datasetId: string, files: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const specs = files.map(parseInputSpec);
  checkInputSpecs(specs);
  const policy = String(opts.policy ?? 'add') as UpdatePolicy;
  const runtime = await createRuntime(opts, ctx, { server: true });
  try {
    if (runtime.settings.target === 'powerbi') return await (await import('./powerbi.js')).appendOnPowerBi(datasetId, specs, opts, runtime, ctx.argv);
    const client = await runtime.connect();
    runtime.reporter.step(`reading dataset ${datasetId}`);
    const definition = await client.getDataset(datasetId, runtime.signal);
    runtime.reporter.stepDone();
    const targets = matchTables(specs, definition);
    const sources = await openInputSources(
      specs.map((s, i) => ({ ...s, table: targets[i]! })),
      runtime,
      opts,
    );
    try {
      const run = await openRun({ command: 'append', runtime, client, opts, dataset: datasetId, policy, sources, argv: ctx.argv });
      if (run.publishing) return runtime.emit(asOutput(await finishPublication(runtime, client, run, 'append')));
      const overrides = await readSchemaOverrides(opts, runtime, sources);
      const tables: Array<LoadTable & { rows: number }> = [];
      let scanCpuMs = 0;
      for (const named of sources) {
        const defined = definition.tables.find((t) => t.name === named.table)!;
        checkColumns(named, defined.columns.map((c) => c.name), runtime);
        // The dataset's own types win; a --type for a column the server already typed must agree.
        const types = new Map<string, WireType>(overrides.typesFor(named.table));
        for (const column of defined.columns) {
          if (!column.type || !named.source.columns.includes(column.name)) continue;
          const forced = types.get(column.name);
          if (forced && forced !== column.type) {
            throw new UsageError(`--type ${column.name}=${forced} conflicts with the dataset, where "${column.name}" is ${column.type}`);
          }
          types.set(column.name, column.type);
        }
        const scanStarted = cpuMs();
        const scan = await scanTable({
          table: named.table,
          source: named.source,
          nullTokens: runtime.settings.nullValues,
          typeOverrides: types,
          roleOverrides: overrides.rolesFor(named.table),
          progress: runtime.reporter,
          signal: runtime.signal,
          purpose: 'load',
        });
        scanCpuMs += cpuMs() - scanStarted;
        const roles = new Map(defined.columns.map((c) => [c.name, c.role]));
        const columns: ColumnSchema[] = scan.columns.map((c) => ({ ...c, role: roles.get(c.name) ?? c.role }));
        tables.push({ table: named.table, source: named.source, columns, policy, rows: scan.rows });
      }
      const result = await loadIntoDataset({ client, datasetId, tables, ...loadSettings(runtime, opts, run) });
      const schemaTables = tables.map((t) => ({ name: t.table, columns: [...t.columns], rows: t.rows }));
      return runtime.emit(asOutput(summarize(datasetId, definition.name, schemaTables, result, 'append', scanCpuMs)));
    } finally {
      await closeAll(sources);
    }
  } finally {
    await runtime.close();
  }
}

/** The inference pass over every input, with the user's overrides; nothing is sent yet. */
export async function scanInputs(
  sources: readonly NamedSource[],
  overrides: SchemaOverrides,
  runtime: Runtime,
  purpose: ScanPurpose = 'load',
): Promise<Array<{ named: NamedSource; scan: ScanResult }>> {
  const scanned: Array<{ named: NamedSource; scan: ScanResult }> = [];
  for (const named of sources) {
    const scan = await scanTable({
      table: named.table,
      source: named.source,
      nullTokens: runtime.settings.nullValues,
      typeOverrides: overrides.typesFor(named.table),
      roleOverrides: overrides.rolesFor(named.table),
      progress: runtime.reporter,
      signal: runtime.signal,
      purpose,
    });
    scanned.push({ named, scan });
  }
  return scanned;
}

function loadSettings(runtime: Runtime, opts: Record<string, unknown>, run: RunSetup) {
  return {
    ...(run.journal ? { journal: run.journal } : {}),
    ...(run.resume ? { resume: run.resume } : {}),
    keepSession: opts.keepSession === true,
    resumeCommand: run.resumeCommand,
    chunkSize: runtime.settings.chunkSize,
    nullTokens: runtime.settings.nullValues,
    publish: opts.publish !== false,
    wait: opts.wait !== false,
    timeoutMs: runtime.settings.timeoutMs,
    pollIntervalMs: runtime.settings.pollIntervalMs,
    progress: runtime.reporter,
    signal: runtime.signal,
  };
}

/** An unfinished run had already published: wait for the publication and report what it loaded. */
async function finishPublication(
  runtime: Runtime,
  client: MstrClient,
  run: RunSetup,
  command: 'create' | 'append',
): Promise<LoadSummary> {
  const { datasetId, sessionId, journal } = run.publishing!;
  runtime.reporter.step(`the unfinished run already published upload session ${sessionId}; waiting for it`);
  await waitForPublication(client, datasetId, sessionId, {
    timeoutMs: runtime.settings.timeoutMs,
    pollIntervalMs: runtime.settings.pollIntervalMs,
    signal: runtime.signal,
  });
  runtime.reporter.stepDone(`dataset ${datasetId} published`);
  await run.journal?.discard();
  return {
    command,
    datasetId,
    name: journal.datasetName ?? null,
    uploadSessionId: sessionId,
    published: true,
    tables: journal.tables.map((t) => ({ name: t.table, rows: t.nextRow, chunks: t.chunks, bytes: 0, columns: [] })),
  };
}

/** `create` leaves a new, empty dataset behind when loading fails before any upload: say so. */
async function explainLeftovers(datasetId: string, load: () => Promise<LoadResult>): Promise<LoadResult> {
  try {
    return await load();
  } catch (error) {
    if (!isMstrPushError(error) || error.exitCode === 7 || error.code === 'INTERRUPTED') throw error;
    throw new PartialUploadError(`dataset ${datasetId} was created but no data was loaded: ${error.message}`, {
      cause: error,
      ...(error.hint ? { hint: error.hint } : {}),
    });
  }
}

/**
 * Which table each file loads: the name after the colon, else a table named like the file, else
 * the only table of a one-table dataset.
 */
export function matchTables(specs: readonly InputSpec[], definition: DatasetDefinition): string[] {
  const names = definition.tables.map((t) => t.name);
  return specs.map((spec) => {
    const wanted = tableNameOf(spec);
    const exact = names.find((n) => n === wanted) ?? names.find((n) => n.toLowerCase() === wanted.toLowerCase());
    if (spec.table !== undefined) {
      if (exact) return exact;
      throw new UsageError(`dataset ${definition.id} has no table "${spec.table}"`, { hint: `its tables: ${names.join(', ')}` });
    }
    if (exact) return exact;
    if (names.length === 1 && specs.length === 1) return names[0]!;
    throw new UsageError(`cannot tell which table of dataset ${definition.id} "${spec.path}" should load`, {
      hint: `name it after a colon, e.g. ${spec.path}:${names[0] ?? 'Table'} (tables: ${names.join(', ')})`,
    });
  });
}

function checkColumns(named: NamedSource, tableColumns: readonly string[], runtime: Runtime): void {
  const known = new Set(tableColumns);
  const unknown = named.source.columns.filter((c) => !known.has(c));
  if (unknown.length > 0) {
    throw new InputError('INPUT_SCHEMA', `column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')} not in table "${named.table}"`, {
      location: { file: named.source.displayName },
      hint: `the table's columns are: ${tableColumns.join(', ')}`,
    });
  }
  const missing = tableColumns.filter((c) => !named.source.columns.includes(c));
  if (missing.length > 0) {
    runtime.reporter.warn(`${named.source.displayName}: no values for ${missing.map((c) => `"${c}"`).join(', ')} of table "${named.table}"`);
  }
}

function summarize(
  datasetId: string,
  name: string | undefined,
  tables: ReadonlyArray<TableSchema & { rows: number }>,
  result: LoadResult,
  command: 'create' | 'append',
  scanCpuMs?: number,
): LoadSummary {
  return {
    ...(scanCpuMs === undefined ? {} : { timing: { scanCpuMs: Math.round(scanCpuMs), totalCpuMs: Math.round(cpuMs()) } }),
    command,
    datasetId,
    name: name ?? null,
    uploadSessionId: result.sessionId,
    published: result.published,
    tables: tables.map((t) => {
      const sent = result.tables.find((r) => r.name === t.name);
      return {
        name: t.name,
        rows: sent?.rows ?? 0,
        chunks: sent?.chunks ?? 0,
        bytes: sent?.bytes ?? 0,
        columns: t.columns.map((c) => ({ name: c.name, type: c.type, role: c.role })),
      };
    }),
  };
}

function asOutput(summary: LoadSummary): { json: object; text: string } {
  return { json: loadSummaryJson(summary), text: formatLoadResult(summary) };
}

/** CPU milliseconds (user and system, all threads) this process has used so far. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
