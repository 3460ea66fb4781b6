// `create`, `append`, `status` and `publish` on the Power BI target (--target powerbi), with the
// run journal that lets an unfinished create or append be continued (--resume), started over
// (--restart), or protected from a plain rerun that would double its rows.

import { InputError, RemoteError, UsageError } from '../../errors.js';
import { closeAll } from '../../pipeline/inputs.js';
import type { InputSpec, NamedSource } from '../../pipeline/inputs.js';
import {
  POWERBI_PUBLISH_NOTE,
  findNewDatasets,
  formatPowerBiStatus,
  powerBiTypeOverrides,
  runPowerBiAppend,
  runPowerBiCreate,
  runPowerBiStatus,
} from '../../pipeline/powerbi-load.js';
import type { PowerBiLoadResult, PowerBiPushSettings, PowerBiResume } from '../../pipeline/powerbi-load.js';
import type { PowerBiClient } from '../../targets/powerbi/client.js';
import type { PowerBiRetention } from '../../targets/powerbi/types.js';
import { mergeOverrides } from '../../schema/overrides.js';
import { fingerprintFile, sameFingerprint } from '../../state/journal.js';
import { POWERBI_JOURNAL_VERSION, PowerBiJournalStore, PowerBiRunJournal, powerBiJournalKey } from '../../state/powerbi-journal.js';
import type { PowerBiJournal } from '../../state/powerbi-journal.js';
import { openInputSources, readSchemaOverrides } from '../context.js';
import type { Runtime, SchemaOverrides } from '../context.js';
import { count, humanBytes } from '../format.js';
import { matchTables, scanInputs } from './load.js';
import { commandLine, runInputs } from './run-state.js';

function pushSettings(runtime: Runtime, run: PowerBiRunSetup): PowerBiPushSettings {
  return {
    nullTokens: runtime.settings.nullValues,
    progress: runtime.reporter,
    signal: runtime.signal,
    batchRows: runtime.settings.batchRows,
    timeScale: runtime.settings.powerBiTimeScale,
    journal: run.journal,
    resume: run.resume,
    resumeCommand: run.resumeCommand,
  };
}

/**
 * `argv` is the command line as typed, for the "continue with" hint; without it the hint is
 * rebuilt from the inputs and the options that identify the run.
 */
export async function createOnPowerBi(specs: readonly InputSpec[], name: string, opts: Record<string, unknown>, runtime: Runtime, argv?: readonly string[]): Promise<number> {
  const client = await runtime.connectPowerBi();
  const sources = await openInputSources(specs, runtime, opts);
  try {
    const resumeCommand = commandLine(argv ?? rebuiltArgv('create', specs, opts, name));
    const run = await openPowerBiRun({ command: 'create', runtime, client, opts, dataset: name, policy: 'create', sources, resumeCommand });
    const scanned = await scanInputs(sources, await readSchemaOverrides(opts, runtime, sources), runtime);
    const result = await runPowerBiCreate(
      client,
      scanned.map(({ named, scan }) => ({ table: named.table, source: named.source, columns: scan.columns })),
      {
        name,
        retention: (opts.retention as PowerBiRetention | undefined) ?? 'none',
        keepDataset: opts.keepSession === true,
        ...pushSettings(runtime, run),
      },
    );
    return runtime.emit({ json: result, text: formatResult(result, 'created') });
  } finally {
    await closeAll(sources);
  }
}

export async function appendOnPowerBi(
  datasetId: string,
  specs: readonly InputSpec[],
  opts: Record<string, unknown>,
  runtime: Runtime,
  argv?: readonly string[],
): Promise<number> {
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
    const resumeCommand = commandLine(argv ?? rebuiltArgv('append', specs, opts, datasetId));
    const run = await openPowerBiRun({ command: 'append', runtime, client, opts, dataset: datasetId, policy, sources, resumeCommand });
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
      { policy, ...pushSettings(runtime, run) },
    );
    return runtime.emit({ json: result, text: formatResult(result, policy === 'replace' ? 'reloaded' : 'appended to') });
  } finally {
    await closeAll(sources);
  }
}

interface PowerBiRunSetup {
  journal: PowerBiRunJournal | undefined;
  resume: PowerBiResume | undefined;
  /** The command line to repeat with --resume, for messages. */
  resumeCommand: string;
}

/**
 * How this run relates to an unfinished earlier run of the same command (same service,
 * workspace, dataset name or id, and files): continue it (--resume), drop it (--restart), or
 * refuse a plain rerun that would make a second dataset or add its rows twice.
 */
async function openPowerBiRun(params: {
  command: 'create' | 'append';
  runtime: Runtime;
  client: PowerBiClient;
  opts: Record<string, unknown>;
  /** Dataset name (create) or id (append). */
  dataset: string;
  policy: PowerBiJournal['policy'];
  sources: readonly NamedSource[];
  resumeCommand: string;
}): Promise<PowerBiRunSetup> {
  const { command, runtime, client, opts, sources, policy, resumeCommand } = params;
  const { reporter, signal } = runtime;
  const none: PowerBiRunSetup = { journal: undefined, resume: undefined, resumeCommand };
  const inputs = runInputs(opts, runtime, sources);
  if (inputs === undefined) return none;
  const { resume, restart, stateDir, files } = inputs;
  const key = powerBiJournalKey({
    command,
    apiUrl: client.apiUrl,
    group: client.group,
    dataset: params.dataset,
    inputs: sources.map((s, i) => ({ file: files[i]!, table: s.table })),
  });
  const store = new PowerBiJournalStore(stateDir, key);
  const existing = await store.read();
  const fingerprints = await Promise.all(files.map((f) => fingerprintFile(f)));
  const fresh = (): PowerBiRunSetup => ({
    ...none,
    journal: new PowerBiRunJournal(store, {
      version: POWERBI_JOURNAL_VERSION,
      target: 'powerbi',
      key,
      command,
      commandLine: resumeCommand,
      apiUrl: client.apiUrl,
      group: client.group ?? null,
      datasetId: command === 'append' ? params.dataset : undefined,
      datasetName: command === 'create' ? params.dataset : undefined,
      knownIds: undefined,
      policy,
      tables: sources.map((s, i) => ({
        table: s.table,
        file: files[i]!,
        fingerprint: fingerprints[i]!,
        phase: policy === 'replace' ? 'empty' : 'loading',
        confirmedThrough: 0,
        beyond: [],
        accepted: 0,
        bytes: 0,
      })),
      updatedAt: new Date().toISOString(),
    }),
  });
  if (!existing) {
    if (resume) reporter.info('no unfinished run of this command: starting a new one');
    return fresh();
  }
  const unfinished = new PowerBiRunJournal(store, existing);
  const fileChanged = () => {
    for (const [i, table] of existing.tables.entries()) {
      const now = fingerprints[i];
      if (table.file !== files[i] || !now || !sameFingerprint(table.fingerprint, now)) return sources[i]?.source.displayName ?? table.file;
    }
    return undefined;
  };

  if (command === 'create') {
    let datasetId = existing.datasetId;
    // Stopped between the create request and its answer: the dataset it made, if any, is the one
    // of this name that was not there before.
    if (datasetId === undefined && existing.knownIds !== undefined) {
      const made = await findNewDatasets(client, params.dataset, existing.knownIds, signal);
      if (made.length > 1) {
        throw new RemoteError('HTTP_STATUS', `the unfinished run of this command was creating dataset "${params.dataset}", and ${made.length} new datasets of that name appeared: ${made.join(', ')}`, {
          hint: `delete the ones that should not be there, then start over with --restart`,
        });
      }
      datasetId = made[0];
    }
    const exists = datasetId !== undefined && (await datasetExists(client, datasetId, signal));
    const label = `dataset "${params.dataset}" (${datasetId ?? '?'})`;
    if (restart) {
      if (exists) {
        await client.deleteDataset(datasetId!, signal);
        reporter.info(`deleted ${label}, made by the unfinished run of this command`);
      }
      await store.remove();
      return fresh();
    }
    if (!exists) {
      if (resume && datasetId !== undefined) {
        throw new RemoteError('HTTP_STATUS', `${label}, made by the unfinished run of this command, is gone from the service`, { hint: 'start over with --restart' });
      }
      // The unfinished run made nothing that is still there: nothing to continue or to protect.
      await store.remove();
      if (resume) reporter.info('the unfinished run of this command left no dataset: starting a new one');
      return fresh();
    }
    if (!resume) {
      throw new UsageError(`an unfinished run of this command left ${label} part-loaded: ${unfinished.describe()}`, {
        hint: 'continue it with --resume, or delete it and start over with --restart',
      });
    }
    const changed = fileChanged();
    if (changed !== undefined) {
      throw new InputError('INPUT_SCHEMA', 'the file changed since the unfinished run, which therefore cannot be continued', {
        location: { file: changed },
        hint: `start over with --restart (the unfinished run's ${label} is then deleted)`,
      });
    }
    if (existing.datasetId === undefined) await unfinished.datasetKnown(datasetId!);
    reporter.info(`continuing the unfinished run from ${store.file}`);
    return { ...none, journal: unfinished, resume: unfinished.resume() };
  }

  const label = `dataset ${params.dataset}`;
  const effects = unfinished.hasEffects();
  if (restart) {
    // Rows already added cannot be taken back one by one: adding them again would double them.
    if (effects && policy === 'add') {
      throw new UsageError(`the unfinished run of this command already changed ${label} (${unfinished.describe()}); starting over with --policy add would add those rows again`, {
        hint: 'continue it with --resume, or reload the tables with --policy replace',
      });
    }
    await store.remove();
    return fresh();
  }
  if (!resume) {
    if (!effects) {
      await store.remove();
      return fresh();
    }
    if (policy === 'replace') {
      reporter.info(`an unfinished run of this command had changed ${label} (${unfinished.describe()}); --policy replace deletes those rows with the rest`);
      await store.remove();
      return fresh();
    }
    throw new UsageError(`an unfinished run of this command left ${label} part-loaded: ${unfinished.describe()}`, {
      hint: `continue it with --resume, or reload the tables with --policy replace`,
    });
  }
  if (existing.policy !== policy) {
    throw new UsageError(`the unfinished run of this command used --policy ${existing.policy}, not ${policy}`, {
      hint: `continue it with --policy ${existing.policy} --resume, or reload the tables with --policy replace`,
    });
  }
  const changed = fileChanged();
  if (changed !== undefined) {
    throw new InputError('INPUT_SCHEMA', 'the file changed since the unfinished run, which therefore cannot be continued', {
      location: { file: changed },
      hint: policy === 'replace' ? 'start over with --restart' : `reload the tables with --policy replace (the unfinished run left ${unfinished.describe()})`,
    });
  }
  reporter.info(`continuing the unfinished run from ${store.file}`);
  return { ...none, journal: unfinished, resume: unfinished.resume() };
}

// Options that decide which run this is (service, workspace, state folder, how rows are cut).
const IDENTIFYING_OPTIONS: ReadonlyArray<[flag: string, key: string]> = [
  ['--target', 'target'],
  ['--api-url', 'apiUrl'],
  ['--authority-url', 'authorityUrl'],
  ['--tenant', 'tenant'],
  ['--client-id', 'clientId'],
  ['--group', 'group'],
  ['--config', 'config'],
  ['--state-dir', 'stateDir'],
  ['--batch-rows', 'batchRows'],
];

/** The command line rebuilt from what identifies the run, when the one typed is not at hand. */
function rebuiltArgv(command: 'create' | 'append', specs: readonly InputSpec[], opts: Record<string, unknown>, dataset: string): string[] {
  const argv: string[] = [command];
  if (command === 'append') argv.push(dataset);
  for (const spec of specs) argv.push(spec.table === undefined ? spec.path : `${spec.path}:${spec.table}`);
  if (command === 'create') argv.push('--name', dataset);
  if (command === 'create' && opts.retention !== undefined && opts.retention !== 'none') argv.push('--retention', String(opts.retention));
  if (command === 'append' && opts.policy !== undefined && opts.policy !== 'add') argv.push('--policy', String(opts.policy));
  for (const [flag, key] of IDENTIFYING_OPTIONS) {
    const value = opts[key];
    if (typeof value === 'string' || typeof value === 'number') argv.push(flag, String(value));
  }
  return argv;
}

async function datasetExists(client: PowerBiClient, datasetId: string, signal: AbortSignal): Promise<boolean> {
  try {
    await client.getDataset(datasetId, signal);
    return true;
  } catch (error) {
    if (error instanceof RemoteError && error.detail?.status === 404) return false;
    throw error;
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
  if (result.reloads > 0) lines.push(`  ${count(result.reloads, 'table')} emptied and loaded again after a request whose fate Power BI could not tell`);
  return lines.join('\n');
}
