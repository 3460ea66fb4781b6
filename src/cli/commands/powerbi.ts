// `create`, `append`, `status` and `publish` on the Power BI target (--target powerbi).

import { UsageError } from '../../errors.js';
import { closeAll } from '../../pipeline/inputs.js';
import type { InputSpec } from '../../pipeline/inputs.js';
import { POWERBI_PUBLISH_NOTE, formatPowerBiStatus, powerBiTypeOverrides, runPowerBiAppend, runPowerBiCreate, runPowerBiStatus } from '../../pipeline/powerbi-load.js';
import type { PowerBiLoadResult, PowerBiPushSettings } from '../../pipeline/powerbi-load.js';
import type { PowerBiRetention } from '../../targets/powerbi/types.js';
import { mergeOverrides } from '../../schema/overrides.js';
import { openInputSources, readSchemaOverrides } from '../context.js';
import type { Runtime, SchemaOverrides } from '../context.js';
import { count, humanBytes } from '../format.js';
import { matchTables, scanInputs } from './load.js';

const RESUME_FLAGS = ['resume', 'restart', 'keepSession'] as const;

function refuseSessionFlags(opts: Record<string, unknown>): void {
  const given = RESUME_FLAGS.filter((flag) => opts[flag] === true);
  if (given.length > 0) {
    throw new UsageError(`${given.map((f) => `--${f === 'keepSession' ? 'keep-session' : f}`).join(', ')} work with upload sessions, which Power BI does not have`, {
      hint: 'a failed Power BI push says how many rows each table holds; reload with --policy replace',
    });
  }
}

function pushSettings(runtime: Runtime): PowerBiPushSettings {
  return {
    nullTokens: runtime.settings.nullValues,
    progress: runtime.reporter,
    signal: runtime.signal,
    batchRows: runtime.settings.batchRows,
    timeScale: runtime.settings.powerBiTimeScale,
  };
}

export async function createOnPowerBi(specs: readonly InputSpec[], name: string, opts: Record<string, unknown>, runtime: Runtime): Promise<number> {
  refuseSessionFlags(opts);
  const client = await runtime.connectPowerBi();
  const sources = await openInputSources(specs, runtime, opts);
  try {
    const scanned = await scanInputs(sources, await readSchemaOverrides(opts, runtime, sources), runtime);
    const result = await runPowerBiCreate(
      client,
      scanned.map(({ named, scan }) => ({ table: named.table, source: named.source, columns: scan.columns })),
      { name, retention: (opts.retention as PowerBiRetention | undefined) ?? 'none', ...pushSettings(runtime) },
    );
    return runtime.emit({ json: result, text: formatResult(result, 'created') });
  } finally {
    await closeAll(sources);
  }
}

export async function appendOnPowerBi(datasetId: string, specs: readonly InputSpec[], opts: Record<string, unknown>, runtime: Runtime): Promise<number> {
  refuseSessionFlags(opts);
  const policy = String(opts.policy ?? 'add');
  if (policy !== 'add' && policy !== 'replace') {
    throw new UsageError(`--policy ${policy} is not available on Power BI`, { hint: 'push datasets take add (post rows) or replace (delete the rows, then post)' });
  }
  const client = await runtime.connectPowerBi();
  runtime.reporter.step(`reading dataset ${datasetId}`);
  const definition = await client.readDefinition(datasetId, runtime.signal);
  runtime.reporter.stepDone();
  const targets = matchTables(specs, { id: definition.id, name: definition.name, tables: definition.tables.map((t) => ({ name: t.name, columns: [] })) });
  const sources = await openInputSources(
    specs.map((s, i) => ({ ...s, table: targets[i]! })),
    runtime,
    opts,
  );
  try {
    const user = await readSchemaOverrides(opts, runtime, sources);
    // The table's own column types, where the service lists them, fix the types to check.
    const overrides: SchemaOverrides = {
      typesFor: (table) => mergeOverrides({ types: user.typesFor(table), roles: new Map() }, { types: powerBiTypeOverrides(definition, table), roles: new Map() }).types,
      rolesFor: (table) => user.rolesFor(table),
    };
    const scanned = await scanInputs(sources, overrides, runtime);
    const result = await runPowerBiAppend(
      client,
      definition,
      scanned.map(({ named, scan }) => ({ table: named.table, source: named.source, columns: scan.columns })),
      { policy, ...pushSettings(runtime) },
    );
    return runtime.emit({ json: result, text: formatResult(result, policy === 'replace' ? 'reloaded' : 'appended to') });
  } finally {
    await closeAll(sources);
  }
}

export async function statusOnPowerBi(datasetId: string, runtime: Runtime): Promise<number> {
  const client = await runtime.connectPowerBi();
  const status = await runPowerBiStatus(client, datasetId, runtime.signal);
  return runtime.emit({ json: status, text: formatPowerBiStatus(status) });
}

export function publishOnPowerBi(datasetId: string, runtime: Runtime): number {
  return runtime.emit({ json: { datasetId, published: true, note: POWERBI_PUBLISH_NOTE }, text: POWERBI_PUBLISH_NOTE });
}

function formatResult(result: PowerBiLoadResult, verb: string): string {
  const where = result.group === null ? 'My workspace' : `workspace ${result.group}`;
  const label = result.name ? `"${result.name}" (${result.datasetId})` : result.datasetId;
  const lines = [`Power BI dataset ${label} ${verb} in ${where}.`];
  for (const t of result.tables) {
    lines.push(`  ${t.name}: ${count(t.rows, 'row')} in ${count(t.chunks, 'request')}, ${humanBytes(t.bytes)} of JSON, ${count(t.columns.length, 'column')}`);
  }
  if (result.throttled > 0) lines.push(`  ${count(result.throttled, 'request')} throttled by the service (429) were waited out and resent`);
  return lines.join('\n');
}
