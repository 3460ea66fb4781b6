// Loads tables into a Power BI push dataset: checks every value against the push limits before the
// first request, warns when the hourly caps stretch the push, then posts batches of rows, paced
// under the documented limits, resending a batch after a 429 or an expired token. Power BI has no
// transactions and no call that says how many rows a table holds, so a batch whose fate is unknown
// (a 5xx, a connection lost after the body went out) is never sent again blindly: a table this run
// fills alone is emptied and loaded again, any other failure says exactly which rows arrived.

import { nullTokensFor } from '../sources/types.js';
import { InputError, InternalError, InterruptedError, PartialUploadError, RemoteError, UsageError, isMstrPushError } from '../errors.js';
import type { ColumnSchema, WireType } from '../schema/types.js';
import type { TableSource } from '../sources/types.js';
import type { CreatedDataset, PostRowsResult, PowerBiClient } from '../targets/powerbi/client.js';
import { RowsBatcher, buildCreateDataset, checkPowerBiSchema, createPowerBiRowSerializer } from '../targets/powerbi/payload.js';
import type { CreateDatasetBody, RowsBatch } from '../targets/powerbi/payload.js';
import { POWERBI_LIMITS, powerBiTypeOf } from '../targets/powerbi/types.js';
import type { PowerBiDataType, PowerBiDefinition, PowerBiRetention } from '../targets/powerbi/types.js';
import { POWERBI_RATE_LIMITS, RatePacer, estimatePush, scaleLimits } from './pacer.js';
import type { PostTicket, RateLimits, WaitReason } from './pacer.js';
import type { ProgressSink } from './progress.js';
import { sleep } from '../util/sleep.js';
import { groupThousands } from '../util/units.js';

/** What `publish` says on this target, where rows are visible as soon as they are posted. */
export const POWERBI_PUBLISH_NOTE = 'Power BI push datasets need no publishing: posted rows are visible at once. Nothing to do.';

export interface PowerBiLoadTable {
  table: string;
  source: TableSource;
  /** One entry per source column, in source order (as inferred or checked by the scan). */
  columns: readonly ColumnSchema[];
}

/** Time for pacing and its waits; injectable so tests can run a push against a fake clock. */
export interface PushClock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`; rejects with InterruptedError when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Consecutive data rows of one file: rows firstRow .. firstRow + rows - 1 (1-based). */
export interface RowRange {
  firstRow: number;
  rows: number;
}

/**
 * Where the run journal hears about progress; the pipeline does not know how it is stored. Each
 * call resolves once the journal is safely written, and a batch is announced before it is sent,
 * so after any stop the journal never claims less than the service may hold.
 */
export interface PowerBiLoadJournal {
  /** Before the create request goes out: ids of datasets of the same name that exist already. */
  creatingDataset(knownIds: readonly string[]): Promise<void>;
  datasetKnown(datasetId: string): Promise<void>;
  /** The table's rows are about to be deleted (replace, or a reload): forget its progress. */
  tableEmptying(table: string): Promise<void>;
  tableEmptied(table: string): Promise<void>;
  batchSending(table: string, range: RowRange): Promise<void>;
  batchConfirmed(table: string, range: RowRange, bytes: number): Promise<void>;
  /** The service provably did not add the batch (429, a refusal, not reached). */
  batchNotApplied(table: string, range: RowRange): Promise<void>;
  tableComplete(table: string): Promise<void>;
  /** The run ended with nothing left to continue: forget it. */
  discard(): Promise<void>;
}

/** What an unfinished run left in one table, as its journal says. */
export interface PowerBiTableResume {
  /** `empty`: the table's rows must be deleted before loading (replace, or an interrupted reload). */
  phase: 'empty' | 'loading' | 'complete';
  /** Rows 1 .. confirmedThrough are in the table for sure. */
  confirmedThrough: number;
  /** Further batches the service confirmed, after a gap. */
  confirmed: readonly RowRange[];
  /** Batches that went out without an answer: they may or may not be in the table. */
  uncertain: readonly RowRange[];
  batches: number;
  bytes: number;
}

/** Continue an unfinished run: the dataset it created (create) and what each table holds. */
export interface PowerBiResume {
  datasetId?: string | undefined;
  tables: ReadonlyMap<string, PowerBiTableResume>;
}

export interface PowerBiPushSettings {
  nullTokens: readonly string[];
  progress: ProgressSink;
  signal?: AbortSignal | undefined;
  /** Rows per POST; at most (and by default) 10,000. */
  batchRows?: number | undefined;
  /** Bytes per POST body; at most (and by default) 16,000,000. */
  maxRequestBytes?: number | undefined;
  /** POST rows requests in flight; at most (and by default) 5. */
  concurrency?: number | undefined;
  /** Overrides of the documented limits (tests, or a tenant known to differ). */
  limits?: Partial<RateLimits> | undefined;
  /** Pace as if time ran this many times faster (matches an emulator started with the same time scale). */
  timeScale?: number | undefined;
  /** Assumed duration of one request, for the up-front estimate. Default 1000 ms. */
  estimateRequestMs?: number | undefined;
  /** 429 answers one batch may get before the push gives up. Default 10. */
  max429PerBatch?: number | undefined;
  /**
   * Times a table this run fills alone (create, replace) may be emptied and loaded again after an
   * answer that leaves a batch's fate unknown. Default: the client's retries.
   */
  maxTableReloads?: number | undefined;
  clock?: PushClock | undefined;
  /** Shows a clock time in messages; default local HH:MM:SS. */
  formatTime?: ((epochMs: number) => string) | undefined;
  journal?: PowerBiLoadJournal | undefined;
  resume?: PowerBiResume | undefined;
  /** The command to run again with --resume, for messages. */
  resumeCommand?: string | undefined;
}

export interface PowerBiCreateOptions extends PowerBiPushSettings {
  name: string;
  retention: PowerBiRetention;
  /**
   * On failure or interrupt, keep the new dataset with the rows it got (for --resume) instead of
   * deleting it, which leaves the workspace as it was before the run.
   */
  keepDataset?: boolean | undefined;
}

export type PowerBiAppendPolicy = 'add' | 'replace';

export interface PowerBiAppendOptions extends PowerBiPushSettings {
  policy: PowerBiAppendPolicy;
}

export interface PowerBiTableResult {
  name: string;
  rows: number;
  /** POST rows requests that were accepted (batches). */
  chunks: number;
  /** Bytes of JSON accepted. */
  bytes: number;
  columns: Array<{ name: string; type: PowerBiDataType }>;
}

export interface PowerBiLoadResult {
  datasetId: string;
  name: string | null;
  /** Workspace id, or null for My workspace. */
  group: string | null;
  retention: PowerBiRetention | null;
  policy: 'create' | PowerBiAppendPolicy;
  tables: PowerBiTableResult[];
  /** 429 answers that were waited out and resent. */
  throttled: number;
  /** Times a request was held back to stay under a limit. */
  paced: number;
  /** Requests resent with a new token after a 403 TokenExpired. */
  tokenRefreshes: number;
  /** Tables emptied and loaded again because a batch's fate was unknown. */
  reloads: number;
}

/**
 * `create`: checks the schema and every value, creates the dataset (one table per source) and
 * posts all rows. If anything fails after the dataset exists, the dataset is deleted again (or,
 * with keepDataset, kept for --resume) and a PartialUploadError says which.
 */
export async function runPowerBiCreate(client: PowerBiClient, tables: readonly PowerBiLoadTable[], options: PowerBiCreateOptions): Promise<PowerBiLoadResult> {
  const name = options.name.trim();
  if (name === '') throw new UsageError('--name must not be empty');
  const schemas = tables.map(schemaOf);
  checkPowerBiSchema(schemas);
  const plans = await planTables(tables, options);
  checkRetention(plans, options.retention, options.progress, true);
  announceEstimate(plans, options, options.retention, {});

  const { progress, signal, journal, resume } = options;
  let datasetId = resume?.datasetId;
  if (datasetId !== undefined) {
    progress.info(`continuing in dataset "${name}" (${datasetId}), made by the unfinished run of this command`);
  } else {
    progress.step(`creating dataset "${name}" in ${client.workspace}`);
    const created = await createDatasetOnce(client, buildCreateDataset(name, schemas), options.retention, { progress, signal, journal });
    datasetId = created.id;
    await journal?.datasetKnown(datasetId);
    progress.stepDone(`dataset "${name}" created: ${datasetId}`);
  }

  const refreshesBefore = client.tokenRefreshes;
  const run = newRun(client, datasetId, options, options.retention, 'create');
  try {
    await pushAll(run, tables);
  } catch (error) {
    throw await failCreate(error, run, name, options.keepDataset === true);
  }
  await journal?.discard();
  return resultOf(run, client, { name, retention: options.retention, policy: 'create', tables, refreshesBefore });
}

/**
 * `append`: posts the rows of each source into the dataset's table of the same name; with
 * `replace` the table's rows are deleted first. `definition` is what `client.readDefinition`
 * returned (the CLI reads it first to match files to tables and to type the columns).
 */
export async function runPowerBiAppend(
  client: PowerBiClient,
  definition: PowerBiDefinition,
  tables: readonly PowerBiLoadTable[],
  options: PowerBiAppendOptions,
): Promise<PowerBiLoadResult> {
  if (definition.addRowsAPIEnabled === false) {
    throw new UsageError(`dataset ${definition.id} is not a push dataset: Power BI does not accept rows for it`, {
      hint: 'only datasets created through the API (for example by mstrpush create) take rows',
    });
  }
  if (options.policy === 'add' && options.resume) refuseUncertainResume(definition, tables, options.resume);
  const schemas = tables.map(schemaOf);
  checkPowerBiSchema(schemas);
  for (const table of tables) checkAgainstDefinition(table, definition, options.progress);
  const plans = await planTables(tables, options);
  // Get Dataset does not document the retention; None is the cautious guess (tables may grow past 250,000).
  const retention = definition.retention ?? 'none';
  checkRetention(plans, retention, options.progress, options.policy === 'replace');
  // Rows a table already holds are unknown (the API does not say), except after replace.
  announceEstimate(plans, options, retention, {});

  const refreshesBefore = client.tokenRefreshes;
  const run = newRun(client, definition.id, options, retention, options.policy);
  try {
    await pushAll(run, tables);
  } catch (error) {
    throw await failAppend(error, run, definition.name);
  }
  await options.journal?.discard();
  return resultOf(run, client, { name: definition.name ?? null, retention: definition.retention ?? null, policy: options.policy, tables, refreshesBefore });
}

/**
 * Creating is not safe to repeat blindly: the service may have stored the dataset before the
 * answer was lost, and dataset names need not be unique, so a second request would make a twin.
 * After such a failure the datasets are listed, and only if none new of this name appeared is the
 * request sent again. The request carries no abort signal, so Ctrl-C waits for its answer rather
 * than leave unknown whether the dataset exists.
 */
async function createDatasetOnce(
  client: PowerBiClient,
  body: CreateDatasetBody,
  retention: PowerBiRetention,
  context: { progress: ProgressSink; signal: AbortSignal | undefined; journal: PowerBiLoadJournal | undefined },
): Promise<CreatedDataset> {
  const { progress, signal, journal } = context;
  const knownIds = (await client.listDatasets(signal)).filter((d) => d.name === body.name).map((d) => d.id);
  await journal?.creatingDataset(knownIds);
  let mayExist = false;
  try {
    try {
      return await client.createDataset(body, retention);
    } catch (error) {
      if (!mayHaveTakenEffect(error)) throw error;
      mayExist = true;
      const reason = errorText(error);
      const made = await findNewDatasets(client, body.name, knownIds, signal);
      if (made.length > 1) {
        throw new RemoteError('HTTP_STATUS', `creating dataset "${body.name}" failed (${reason}), and ${made.length} new datasets of that name appeared: ${made.join(', ')}`, {
          cause: error,
          hint: 'delete the ones that should not be there, then run the command again',
        });
      }
      if (made.length === 1) {
        progress.warn(`creating the dataset answered with an error (${reason}), but the service stored it: continuing with ${made[0]}`);
        return { id: made[0]!, name: body.name, accepted: false };
      }
      progress.warn(`creating the dataset failed (${reason}) and the service did not store it; trying again`);
      mayExist = false;
      return await client.createDataset(body, retention);
    }
  } catch (error) {
    // The journal stays while a dataset may have been made, so the next run can find it.
    if (!mayExist && !mayHaveTakenEffect(error)) await journal?.discard();
    throw error;
  }
}

// A dataset accepted with 202 may take a moment to be listed, so a second look follows a pause.
const LIST_AGAIN_AFTER_MS = 1000;

/** Ids of datasets named `name` that are not among `knownIds`. */
export async function findNewDatasets(client: PowerBiClient, name: string, knownIds: readonly string[], signal?: AbortSignal): Promise<string[]> {
  const look = async () => (await client.listDatasets(signal)).filter((d) => d.name === name && !knownIds.includes(d.id)).map((d) => d.id);
  const first = await look();
  if (first.length > 0) return first;
  await sleep(LIST_AGAIN_AFTER_MS, signal);
  return look();
}

/** The types an existing table fixes for a file's columns, for the scan's type overrides. */
export function powerBiTypeOverrides(definition: PowerBiDefinition, table: string): Map<string, WireType> {
  const overrides = new Map<string, WireType>();
  for (const column of definition.tables.find((t) => t.name === table)?.columns ?? []) {
    if (column.type !== undefined) overrides.set(column.name, column.type);
  }
  return overrides;
}

export interface PowerBiStatus {
  datasetId: string;
  name: string | null;
  group: string | null;
  retention: PowerBiRetention | null;
  addRowsAPIEnabled: boolean | null;
  webUrl: string | null;
  configuredBy: string | null;
  createdDate: string | null;
  /** `columns` is null where the service listed only the table's name. */
  tables: Array<{ name: string; columns: Array<{ name: string; type: PowerBiDataType | null }> | null }>;
}

/** `status`: the dataset and its tables, as the service describes them. */
export async function runPowerBiStatus(client: PowerBiClient, datasetId: string, signal?: AbortSignal): Promise<PowerBiStatus> {
  const dataset = await client.getDataset(datasetId, signal);
  const tables = await client.getTables(datasetId, signal);
  return {
    datasetId: dataset.id,
    name: dataset.name ?? null,
    group: client.group ?? null,
    retention: dataset.retention ?? null,
    addRowsAPIEnabled: dataset.addRowsAPIEnabled ?? null,
    webUrl: dataset.webUrl ?? null,
    configuredBy: dataset.configuredBy ?? null,
    createdDate: dataset.createdDate ?? null,
    tables: tables.map((t) => ({ name: t.name, columns: t.columns?.map((c) => ({ name: c.name, type: c.dataType ?? null })) ?? null })),
  };
}

/** The human form of `status` for stdout. */
export function formatPowerBiStatus(status: PowerBiStatus): string {
  const where = status.group === null ? 'My workspace' : `workspace ${status.group}`;
  const count = status.tables.length;
  const lines = [`Dataset ${status.name === null ? '' : `"${status.name}" `}(${status.datasetId}) in ${where}: ${count} table${count === 1 ? '' : 's'}`];
  if (status.addRowsAPIEnabled === false) lines.push('Not a push dataset: it does not accept rows.');
  if (status.retention !== null) lines.push(`Retention: ${status.retention}`);
  if (status.webUrl !== null) lines.push(`Web: ${status.webUrl}`);
  for (const table of status.tables) {
    lines.push('', `Table ${table.name}`);
    if (table.columns === null) {
      lines.push('  (Power BI lists only the table name)');
      continue;
    }
    const width = Math.max(6, ...table.columns.map((c) => c.name.length));
    lines.push(`  ${'column'.padEnd(width)}  type`, `  ${'-'.repeat(width)}  --------`);
    for (const column of table.columns) lines.push(`  ${column.name.padEnd(width)}  ${column.type ?? '?'}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Checks and planning before any request

interface TablePlan {
  table: string;
  file: string;
  rows: number;
  /** Rows of each request, in order. */
  batches: number[];
}

function schemaOf(table: PowerBiLoadTable): { name: string; file: string; columns: ColumnSchema[] } {
  if (table.columns.length !== table.source.columns.length) {
    throw new InternalError(`table "${table.table}" has ${table.columns.length} typed columns for ${table.source.columns.length} source columns`);
  }
  return { name: table.table, file: table.source.displayName, columns: [...table.columns] };
}

function batchLimits(settings: PowerBiPushSettings): { maxRows: number; maxBytes: number } {
  const maxRows = Math.min(settings.batchRows ?? POWERBI_LIMITS.maxRowsPerPost, POWERBI_LIMITS.maxRowsPerPost);
  const maxBytes = Math.min(settings.maxRequestBytes ?? POWERBI_LIMITS.maxRequestBytes, POWERBI_LIMITS.maxRequestBytes);
  if (!(maxRows >= 1) || !Number.isInteger(maxRows)) throw new UsageError(`rows per request must be a whole number from 1 to ${POWERBI_LIMITS.maxRowsPerPost}`);
  return { maxRows, maxBytes };
}

/**
 * Reads every table once, serializing each row exactly as the push will, so a value Power BI
 * would refuse (wrong type, a string over 4,000 characters, an Int64 extreme, a Decimal too
 * large) stops the run before the first request; and counts the requests for the estimate.
 */
async function planTables(tables: readonly PowerBiLoadTable[], settings: PowerBiPushSettings): Promise<TablePlan[]> {
  const { progress, signal } = settings;
  const { maxRows, maxBytes } = batchLimits(settings);
  const plans: TablePlan[] = [];
  for (const table of tables) {
    const { source } = table;
    const serialize = createPowerBiRowSerializer(table.columns, { nullTokens: nullTokensFor(source, settings.nullTokens), file: source.displayName });
    const batcher = new RowsBatcher({ maxRows, maxBytes, buildBodies: false, file: source.displayName });
    const plan: TablePlan = { table: table.table, file: source.displayName, rows: 0, batches: [] };
    let bytesRead = 0;
    progress.startTable({ table: table.table, file: source.displayName, totalBytes: source.totalBytes, pass: 'scan' });
    for await (const batch of source.batches(signal)) {
      for (let i = 0; i < batch.rows.length; i++) {
        plan.rows++;
        const line = batch.lines[i] ?? 0;
        const done = batcher.add(serialize(batch.rows[i]!, line, plan.rows), line, plan.rows);
        if (done) plan.batches.push(done.rows);
      }
      bytesRead = batch.bytesRead;
      progress.progress({ bytesRead, rows: plan.rows, chunksSent: 0, bytesSent: 0 });
    }
    const last = batcher.flush();
    if (last) plan.batches.push(last.rows);
    progress.endTable({ bytesRead, rows: plan.rows, chunksSent: 0, bytesSent: 0 });
    plans.push(plan);
  }
  return plans;
}

function checkRetention(plans: readonly TablePlan[], retention: PowerBiRetention, progress: ProgressSink, tablesStartEmpty: boolean): void {
  for (const plan of plans) {
    if (retention === 'none' && plan.rows > POWERBI_LIMITS.maxRowsRetentionNone) {
      throw new InputError(
        'INPUT_SCHEMA',
        `table "${plan.table}" would get ${fmt(plan.rows)} rows; a Power BI push table with retention none holds at most ${fmt(POWERBI_LIMITS.maxRowsRetentionNone)}`,
        { location: { file: plan.file }, hint: 'split the data over several tables or datasets, or keep only the newest rows with --retention basicFIFO' },
      );
    }
    if (retention === 'basicFIFO' && plan.rows > POWERBI_LIMITS.fifoTrigger && tablesStartEmpty) {
      progress.warn(
        `table "${plan.table}" gets ${fmt(plan.rows)} rows, but with retention basicFIFO Power BI keeps only the newest ${fmt(POWERBI_LIMITS.fifoKeep)} to ${fmt(POWERBI_LIMITS.fifoTrigger)}`,
      );
    }
  }
}

function limitsOf(settings: PowerBiPushSettings): RateLimits {
  return scaleLimits({ ...POWERBI_RATE_LIMITS, ...settings.limits }, settings.timeScale ?? 1);
}

function concurrencyOf(settings: PowerBiPushSettings, limits: RateLimits): number {
  const wanted = settings.concurrency ?? limits.maxPending;
  if (!(wanted >= 1) || !Number.isInteger(wanted)) throw new UsageError('the number of requests in flight must be a whole number of at least 1');
  return Math.min(wanted, limits.maxPending);
}

/** Says before the first request when an hourly limit stretches the push, and until when. */
function announceEstimate(plans: readonly TablePlan[], settings: PowerBiPushSettings, retention: PowerBiRetention, tableRows: Record<string, number>): void {
  const limits = limitsOf(settings);
  const clock = settings.clock ?? REAL_CLOCK;
  const formatTime = settings.formatTime ?? formatClock;
  const estimate = estimatePush({
    limits,
    retention,
    tableRows,
    batches: plans.flatMap((plan) => plan.batches.map((rows) => ({ table: plan.table, rows }))),
    concurrency: concurrencyOf(settings, limits),
    requestMs: settings.estimateRequestMs ?? 1000,
    start: clock.now(),
  });
  if (!estimate.hourlyLimited) return;
  const rows = plans.reduce((sum, plan) => sum + plan.rows, 0);
  const scale = settings.timeScale ?? 1;
  const causes: string[] = [];
  if ((estimate.waitedMs['rows-per-hour'] ?? 0) > 0) causes.push(describeLimit('rows-per-hour', limits, scale));
  if ((estimate.waitedMs['posts-per-hour'] ?? 0) > 0) causes.push(describeLimit('posts-per-hour', limits, scale));
  settings.progress.warn(
    `Power BI takes at most ${causes.join(' and ')}: pushing ${fmt(rows)} rows takes about ${formatDuration(estimate.durationMs)}, until about ${formatTime(estimate.finishAt)}`,
  );
}

function checkAgainstDefinition(table: PowerBiLoadTable, definition: PowerBiDefinition, progress: ProgressSink): void {
  const defined = definition.tables.find((t) => t.name === table.table);
  if (defined === undefined) {
    throw new UsageError(`dataset ${definition.id} has no table "${table.table}"`, {
      hint: `its tables: ${definition.tables.map((t) => t.name).join(', ') || '(none)'}`,
    });
  }
  const file = table.source.displayName;
  if (!defined.columnsKnown) {
    progress.info(`Power BI lists no columns for table "${table.table}": the columns of ${file} are sent as they are and checked by the service`);
    return;
  }
  const byName = new Map(defined.columns.map((c) => [c.name, c]));
  for (const column of table.columns) {
    const target = byName.get(column.name);
    if (target === undefined) {
      throw new InputError('INPUT_SCHEMA', `column "${column.name}" is not in table "${table.table}"`, {
        location: { file, line: 1, column: column.name },
        hint: `the table's columns are: ${defined.columns.map((c) => c.name).join(', ')}`,
      });
    }
    const sending = powerBiTypeOf(column.type);
    if (target.dataType !== undefined && target.dataType !== sending) {
      throw new InputError('INPUT_SCHEMA', `column "${column.name}" is ${target.dataType} in table "${table.table}", but the file's values are ${sending}`, {
        location: { file, line: 1, column: column.name },
        hint: `type the column to match, e.g. --type ${column.name}=STRING`,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The push

const REAL_CLOCK: PushClock = { now: () => Date.now(), sleep };

interface TableProgressState {
  name: string;
  file: string;
  /** Rows of the file the table holds for sure: 1..confirmedThrough and the `confirmed` batches. */
  rows: number;
  batches: number;
  bytes: number;
  /** The rows the table held before were deleted (replace). */
  deleted: boolean;
  confirmedThrough: number;
  /** Batches confirmed after a gap, by first row. */
  confirmed: RowRange[];
  /** Batches sent without an answer that settles whether they were added. */
  uncertain: RowRange[];
}

interface Run {
  client: PowerBiClient;
  datasetId: string;
  policy: 'create' | PowerBiAppendPolicy;
  settings: PowerBiPushSettings;
  journal: PowerBiLoadJournal | undefined;
  clock: PushClock;
  limits: RateLimits;
  pacer: RatePacer;
  concurrency: number;
  maxRows: number;
  maxBytes: number;
  max429: number;
  maxReloads: number;
  throttled: number;
  paced: number;
  reloads: number;
  tables: TableProgressState[];
  /** Resolves when any request finishes; replaced each time. */
  answered: Promise<void>;
  notify: () => void;
  shownWait: { reason: WaitReason; until: number } | undefined;
  lastNotice: { reason: WaitReason; at: number } | undefined;
  /** Set once a request failed: batches not yet sent stay unsent. */
  stopped: boolean;
}

function newRun(client: PowerBiClient, datasetId: string, settings: PowerBiPushSettings, retention: PowerBiRetention, policy: Run['policy']): Run {
  const limits = limitsOf(settings);
  const { maxRows, maxBytes } = batchLimits(settings);
  // Rows a table holds are known only where this run (or its unfinished predecessor) filled it alone.
  const tableRows: Record<string, number> = {};
  if (policy !== 'add') for (const [table, resumed] of settings.resume?.tables ?? []) tableRows[table] = sureRows(resumed);
  let resolve: () => void = () => {};
  const run: Run = {
    client,
    datasetId,
    policy,
    settings,
    journal: settings.journal,
    clock: settings.clock ?? REAL_CLOCK,
    limits,
    pacer: new RatePacer(limits, { retention, tableRows }),
    concurrency: concurrencyOf(settings, limits),
    maxRows,
    maxBytes,
    max429: settings.max429PerBatch ?? 10,
    maxReloads: settings.maxTableReloads ?? client.retryPolicy.retries,
    throttled: 0,
    paced: 0,
    reloads: 0,
    tables: [],
    answered: new Promise<void>((r) => (resolve = r)),
    notify: () => {
      const wake = resolve;
      run.answered = new Promise<void>((r) => (resolve = r));
      wake();
    },
    shownWait: undefined,
    lastNotice: undefined,
    stopped: false,
  };
  return run;
}

function sureRows(progress: Pick<PowerBiTableResume, 'confirmedThrough' | 'confirmed'>): number {
  return progress.confirmedThrough + progress.confirmed.reduce((sum, r) => sum + r.rows, 0);
}

/**
 * Adds a confirmed batch to what a table holds for sure: rows 1..confirmedThrough, then batches
 * after a gap (sorted), which join the prefix once the gap closes. Pure, and shared with the journal.
 */
export function mergeConfirmed(confirmedThrough: number, confirmed: readonly RowRange[], range: RowRange): { confirmedThrough: number; confirmed: RowRange[] } {
  const sorted = [...confirmed, range].sort((a, b) => a.firstRow - b.firstRow);
  let through = confirmedThrough;
  const after: RowRange[] = [];
  for (const next of sorted) {
    const end = next.firstRow + next.rows - 1;
    const last = after[after.length - 1];
    if (last === undefined && next.firstRow <= through + 1) through = Math.max(through, end);
    else if (last !== undefined && next.firstRow <= last.firstRow + last.rows) last.rows = Math.max(last.rows, end - last.firstRow + 1);
    else after.push({ firstRow: next.firstRow, rows: next.rows });
  }
  return { confirmedThrough: through, confirmed: after };
}

async function pushAll(run: Run, tables: readonly PowerBiLoadTable[]): Promise<void> {
  const { settings, policy } = run;
  // A table this run fills alone can be emptied and loaded again; one it adds to cannot.
  const owned = policy !== 'add';
  for (const table of tables) {
    const resumed = settings.resume?.tables.get(table.table);
    const state: TableProgressState = {
      name: table.table,
      file: table.source.displayName,
      rows: resumed ? sureRows(resumed) : 0,
      batches: resumed?.batches ?? 0,
      bytes: resumed?.bytes ?? 0,
      deleted: policy === 'replace' && resumed !== undefined && resumed.phase !== 'empty',
      confirmedThrough: resumed?.confirmedThrough ?? 0,
      confirmed: [...(resumed?.confirmed ?? [])],
      uncertain: [...(resumed?.uncertain ?? [])],
    };
    run.tables.push(state);
    if (resumed?.phase === 'complete') {
      settings.progress.info(`table "${table.table}": already loaded by the unfinished run (${count(state.rows, 'row')})`);
      continue;
    }
    let empty = resumed === undefined ? policy === 'replace' : resumed.phase === 'empty' || resumed.uncertain.length > 0;
    if (resumed !== undefined && resumed.uncertain.length > 0) {
      if (!owned) throw new InternalError(`table "${table.table}" has batches of unknown fate and cannot be continued`);
      settings.progress.warn(
        `table "${table.table}": rows ${formatRowRanges(resumed.uncertain)} of ${state.file} were on their way when the unfinished run stopped, and Power BI cannot say whether they arrived; the table is emptied and loaded again from its first row`,
      );
    } else if (resumed !== undefined && !empty && state.rows > 0) {
      settings.progress.info(`table "${table.table}": continuing after the ${count(state.rows, 'row')} the unfinished run loaded (rows ${formatRowRanges(sureRanges(state))})`);
    }
    for (;;) {
      if (empty) await emptyTable(run, table.table, state);
      try {
        await pushTable(run, table, state);
        break;
      } catch (error) {
        if (!owned || !mayHaveTakenEffect(error) || settings.signal?.aborted === true || run.reloads >= run.maxReloads) throw error;
        run.reloads++;
        const policyDelays = run.client.retryPolicy;
        const delayMs = Math.min(policyDelays.maxDelayMs, policyDelays.baseDelayMs * 2 ** (run.reloads - 1));
        settings.progress.warn(
          `table "${table.table}": ${errorText(error)}; Power BI cannot say whether rows ${formatRowRanges(state.uncertain)} arrived, so the table is emptied and loaded again from its first row (reload ${run.reloads} of ${run.maxReloads} in ${(delayMs / 1000).toFixed(1)} s)`,
        );
        await run.clock.sleep(delayMs, settings.signal);
        empty = true;
      }
    }
    await run.journal?.tableComplete(table.table);
  }
}

/** Deletes every row of the table (the only delete push tables have) and forgets its progress. */
async function emptyTable(run: Run, table: string, state: TableProgressState): Promise<void> {
  const { settings } = run;
  // Journaled first: a run stopped between here and the end of the delete empties the table again.
  await run.journal?.tableEmptying(table);
  settings.progress.step(`deleting the rows of table "${table}"`);
  await run.client.deleteRows(run.datasetId, table, settings.signal);
  Object.assign(state, { rows: 0, batches: 0, bytes: 0, confirmedThrough: 0, confirmed: [], uncertain: [] });
  state.deleted = run.policy === 'replace';
  run.pacer.resetTable(table);
  await run.journal?.tableEmptied(table);
  settings.progress.stepDone(`rows of table "${table}" deleted`);
}

/**
 * Streams one table: rows are serialized and batched while up to `concurrency` POSTs are out,
 * so reading waits for the network and memory holds at most concurrency + 1 bodies. Rows the
 * table holds for sure already (resume) are read past; a batch never spans such a gap, so every
 * batch is one range of rows. Requests already sent are allowed to finish after a failure or an
 * interrupt, so the counts are exact.
 */
async function pushTable(run: Run, table: PowerBiLoadTable, state: TableProgressState): Promise<void> {
  const { settings } = run;
  const { progress, signal } = settings;
  const { source } = table;
  if (state.uncertain.length > 0) throw new InternalError(`table "${table.table}" is loaded while rows ${formatRowRanges(state.uncertain)} are of unknown fate`);
  const skip = sureRanges(state);
  let skipIndex = 0;
  const isSkipped = (row: number) => {
    while (skipIndex < skip.length && skip[skipIndex]!.firstRow + skip[skipIndex]!.rows <= row) skipIndex++;
    const range = skip[skipIndex];
    return range !== undefined && row >= range.firstRow;
  };
  const serialize = createPowerBiRowSerializer(table.columns, { nullTokens: nullTokensFor(source, settings.nullTokens), file: source.displayName });
  const batcher = new RowsBatcher({ maxRows: run.maxRows, maxBytes: run.maxBytes, file: source.displayName });
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let bytesRead = 0;
  let rowNumber = 0;
  run.stopped = false;
  const report = () => progress.progress({ bytesRead, rows: state.rows, chunksSent: state.batches, bytesSent: state.bytes });

  const launch = async (batch: RowsBatch) => {
    while (inFlight.size >= run.concurrency) await Promise.race(inFlight);
    if (failure) return;
    const sending: Promise<void> = sendBatch(run, table.table, batch, state)
      .then(report, (error: unknown) => {
        failure ??= { error };
        run.stopped = true;
        run.notify();
      })
      .then(() => {
        inFlight.delete(sending);
      });
    inFlight.add(sending);
  };

  progress.startTable({ table: table.table, file: source.displayName, totalBytes: source.totalBytes, pass: 'upload' });
  try {
    reading: for await (const batch of source.batches(signal)) {
      for (let i = 0; i < batch.rows.length; i++) {
        rowNumber++;
        const line = batch.lines[i] ?? 0;
        let done: RowsBatch | undefined;
        if (isSkipped(rowNumber)) done = batcher.flush();
        else done = batcher.add(serialize(batch.rows[i]!, line, rowNumber), line, rowNumber);
        if (done) {
          await launch(done);
          if (failure) break reading;
        }
      }
      bytesRead = batch.bytesRead;
      report();
    }
    const last = failure ? undefined : batcher.flush();
    if (last) await launch(last);
  } catch (error) {
    failure ??= { error };
    run.stopped = true;
    run.notify();
  }
  await Promise.all(inFlight);
  showWait(run, undefined);
  if (failure) throw failure.error;
  progress.endTable({ bytesRead, rows: state.rows, chunksSent: state.batches, bytesSent: state.bytes });
}

/**
 * Sends one batch until it is accepted: paced, announced to the journal before it goes out, and
 * resent after each 429 once Retry-After has passed. A failure that leaves the batch's fate
 * unknown marks it uncertain and is never resent from here.
 */
async function sendBatch(run: Run, table: string, batch: RowsBatch, state: TableProgressState): Promise<void> {
  const { client, pacer, clock, settings, journal } = run;
  const range: RowRange = { firstRow: batch.firstRow, rows: batch.rows };
  for (let throttles = 0; ; ) {
    const ticket = await acquireSlot(run, table, batch.rows);
    let answer: PostRowsResult;
    try {
      await journal?.batchSending(table, range);
    } catch (error) {
      pacer.finish(ticket, clock.now(), 'rejected');
      run.notify();
      throw error;
    }
    try {
      // No abort signal here: an interrupted POST would leave unknown whether its rows were added.
      answer = await client.postRows(run.datasetId, table, batch.body);
    } catch (error) {
      const unknown = !isMstrPushError(error) || mayHaveTakenEffect(error);
      pacer.finish(ticket, clock.now(), unknown ? 'unknown' : 'rejected');
      run.notify();
      // The journal keeps an unknown batch as sent; a refused one is taken off (a failed write only leaves it conservative).
      if (unknown) state.uncertain.push(range);
      else await journal?.batchNotApplied(table, range).catch(() => {});
      throw error;
    }
    if (answer.kind === 'ok') {
      pacer.finish(ticket, clock.now(), 'accepted');
      Object.assign(state, mergeConfirmed(state.confirmedThrough, state.confirmed, range));
      state.rows += batch.rows;
      state.batches++;
      state.bytes += batch.bytes;
      run.notify();
      await journal?.batchConfirmed(table, range, batch.bytes);
      return;
    }
    const now = clock.now();
    pacer.finish(ticket, now, 'rejected');
    pacer.throttle(now + answer.retryAfterMs);
    run.throttled++;
    run.notify();
    // A 429 added nothing: while it is waited out the batch is not on its way.
    await journal?.batchNotApplied(table, range);
    const rows = `rows ${fmt(batch.firstRow)}-${fmt(batch.firstRow + batch.rows - 1)} of table "${table}"`;
    if (++throttles > run.max429) {
      throw new RemoteError('HTTP_STATUS', `Power BI still answers 429 Too Many Requests for ${rows} after ${run.max429} waits: ${answer.message}`, {
        detail: { status: 429, method: 'POST', message: answer.message },
        hint: 'the tenant is busier than the documented limits allow for; try again later',
      });
    }
    settings.progress.info(
      `Power BI answered 429 (${answer.message}); sending ${rows} again after ${formatDuration(answer.retryAfterMs)}, at ${formatTimeOf(run, now + answer.retryAfterMs)}`,
    );
  }
}

/** The server may have acted on the request before it failed (a 5xx, a connection lost after sending). */
function mayHaveTakenEffect(error: unknown): boolean {
  return isMstrPushError(error) && (error as { mayHaveTakenEffect?: boolean }).mayHaveTakenEffect === true;
}

function isInterrupt(error: unknown): boolean {
  return isMstrPushError(error) && error.code === 'INTERRUPTED';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The rows a table holds for sure, as ranges. */
function sureRanges(state: { confirmedThrough: number; confirmed: readonly RowRange[] }): RowRange[] {
  return [...(state.confirmedThrough > 0 ? [{ firstRow: 1, rows: state.confirmedThrough }] : []), ...state.confirmed];
}

/** `1-2,300`, `1-2,300 and 2,501-2,600`, `7`. */
export function formatRowRanges(ranges: readonly RowRange[]): string {
  const parts = ranges.map((r) => (r.rows === 1 ? fmt(r.firstRow) : `${fmt(r.firstRow)}-${fmt(r.firstRow + r.rows - 1)}`));
  return parts.length <= 1 ? (parts[0] ?? 'none') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** A resumed `add` cannot continue past batches of unknown fate: say exactly what the table holds, before any request. */
function refuseUncertainResume(definition: PowerBiDefinition, tables: readonly PowerBiLoadTable[], resume: PowerBiResume): void {
  for (const table of tables) {
    const resumed = resume.tables.get(table.table);
    if (resumed === undefined || resumed.uncertain.length === 0) continue;
    const file = table.source.displayName;
    const sure = sureRows(resumed);
    const held = sure === 0 ? 'none of its rows for sure' : `rows ${formatRowRanges(sureRanges(resumed))} of it (${count(sure, 'row')}) for sure`;
    throw new PartialUploadError(
      `the unfinished run of this command cannot be continued exactly: table "${table.table}" of dataset ${definition.id} holds ${held} of ${file} besides its earlier rows, ` +
        `but rows ${formatRowRanges(resumed.uncertain)} were on their way when it stopped, and Power BI cannot say whether they arrived (it tells no row counts)`,
      { hint: `reload the table with: mstrpush append ${definition.id} ${file}:${table.table} --policy replace (it deletes the table's rows first)` },
    );
  }
}

async function acquireSlot(run: Run, table: string, rows: number): Promise<PostTicket> {
  const { pacer, clock, settings } = run;
  let held = false;
  for (;;) {
    if (settings.signal?.aborted) throw new InterruptedError();
    if (run.stopped) throw new InterruptedError('not sent: an earlier request failed');
    const now = clock.now();
    const decision = pacer.decide(now, table, rows);
    if (decision.kind === 'go') {
      showWait(run, undefined);
      return pacer.begin(table, rows);
    }
    if (decision.kind === 'await-response' && pacer.pending === 0) {
      throw new InternalError(`pacing waits for an answer while no request is in flight (${decision.reason})`);
    }
    if (!held && decision.reason !== 'pending') {
      held = true;
      run.paced++;
    }
    if (decision.kind === 'wait') showWait(run, { reason: decision.reason, until: decision.until });
    await pause(clock, decision.kind === 'wait' ? decision.until - now : Number.POSITIVE_INFINITY, settings.signal, run.answered);
  }
}

/** Waits `ms`, or until `wake` resolves, whichever is first; an abort is an InterruptedError. */
async function pause(clock: PushClock, ms: number, signal: AbortSignal | undefined, wake: Promise<void>): Promise<void> {
  const timer = new AbortController();
  const stop = () => timer.abort();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const stopped = new Promise<void>((resolve) => timer.signal.addEventListener('abort', () => resolve(), { once: true }));
    const slept = Number.isFinite(ms) ? clock.sleep(Math.max(0, ms), timer.signal).catch(() => {}) : stopped;
    await Promise.race([slept, wake, stopped]);
  } finally {
    signal?.removeEventListener('abort', stop);
    timer.abort();
  }
  if (signal?.aborted) throw new InterruptedError();
}

// Pauses shorter than this are routine pacing and not worth a line of their own.
const NOTICEABLE_WAIT_MS = 2000;
// A new line for the same limit only when the pause moved on by this much.
const REPEAT_NOTICE_MS = 60_000;

/** Tells the progress sink about a pause (or its end); sinks without `waiting` get occasional info lines. */
function showWait(run: Run, wait: { reason: WaitReason; until: number } | undefined): void {
  const { progress } = run.settings;
  if (wait === undefined) {
    if (run.shownWait === undefined) return;
    run.shownWait = undefined;
    progress.waiting?.(undefined);
    return;
  }
  const shown = run.shownWait;
  if (shown && shown.reason === wait.reason && Math.abs(shown.until - wait.until) < 1000) return;
  run.shownWait = wait;
  const reason = describeLimit(wait.reason, run.limits, run.settings.timeScale ?? 1);
  if (progress.waiting) {
    progress.waiting({ until: wait.until, reason });
    return;
  }
  const now = run.clock.now();
  const last = run.lastNotice;
  if (wait.until - now < NOTICEABLE_WAIT_MS) return;
  if (last && last.reason === wait.reason && now - last.at < REPEAT_NOTICE_MS) return;
  run.lastNotice = { reason: wait.reason, at: now };
  progress.info(`waiting for the rate limit until ${formatTimeOf(run, wait.until)} (Power BI: at most ${reason})`);
}

function describeLimit(reason: WaitReason, limits: RateLimits, timeScale: number): string {
  const per = (windowMs: number, unit: 'minute' | 'hour') => {
    const nominal = unit === 'minute' ? 60_000 : 3_600_000;
    return Math.abs(windowMs * timeScale - nominal) < 1 ? `per ${unit}` : `per ${formatDuration(windowMs)}`;
  };
  switch (reason) {
    case 'posts-per-minute':
      return `${fmt(limits.postsPerMinute)} POST rows requests ${per(limits.minuteMs, 'minute')} per dataset`;
    case 'rows-per-hour':
      return `${fmt(limits.rowsPerHour)} rows ${per(limits.hourMs, 'hour')} per dataset`;
    case 'posts-per-hour':
      return `${fmt(limits.postsPerHourBigTable)} POST rows requests ${per(limits.hourMs, 'hour')} per dataset once a table holds ${fmt(limits.bigTableRows)} rows`;
    case 'pending':
      return `${fmt(limits.maxPending)} POST rows requests in flight per dataset`;
    case 'retry-after':
      return 'what its last 429 answer allowed (Retry-After)';
  }
}

// ---------------------------------------------------------------------------------------------
// Results and failures

function resultOf(
  run: Run,
  client: PowerBiClient,
  info: { name: string | null; retention: PowerBiRetention | null; policy: PowerBiLoadResult['policy']; tables: readonly PowerBiLoadTable[]; refreshesBefore: number },
): PowerBiLoadResult {
  return {
    datasetId: run.datasetId,
    name: info.name,
    group: client.group ?? null,
    retention: info.retention,
    policy: info.policy,
    tables: info.tables.map((table) => {
      const sent = run.tables.find((t) => t.name === table.table);
      return {
        name: table.table,
        rows: sent?.rows ?? 0,
        chunks: sent?.batches ?? 0,
        bytes: sent?.bytes ?? 0,
        columns: table.columns.map((c) => ({ name: c.name, type: powerBiTypeOf(c.type) })),
      };
    }),
    throttled: run.throttled,
    paced: run.paced,
    tokenRefreshes: client.tokenRefreshes - info.refreshesBefore,
    reloads: run.reloads,
  };
}

/** What the dataset holds of this load, table by table: the rows for sure, those of unknown fate, deletions. */
function describeHoldings(run: Run): string {
  const added = run.tables.filter((t) => t.rows > 0);
  const unsure = run.tables.filter((t) => t.uncertain.length > 0);
  const deleted = run.tables.filter((t) => t.deleted);
  let text =
    added.length === 0
      ? `no rows of this run were added${unsure.length > 0 ? ' for sure' : ''}`
      : `it holds ${added.map((t) => `${count(t.rows, 'row')} of ${t.file} in table "${t.name}" (rows ${formatRowRanges(sureRanges(t))})`).join(', ')}`;
  for (const t of unsure) {
    text += `; rows ${formatRowRanges(t.uncertain)} of ${t.file} may or may not have been added to table "${t.name}": their request failed without an answer, and Power BI cannot say how many rows a table holds`;
  }
  if (deleted.length > 0) text += `; the old rows of ${deleted.map((t) => `"${t.name}"`).join(', ')} were deleted`;
  return text;
}

function hintOf(error: unknown): string {
  return isMstrPushError(error) && error.hint ? `${error.hint}. ` : '';
}

/**
 * A create failed after the dataset exists. Unless told to keep it, the dataset is deleted again,
 * so the workspace is left as it was: Power BI cannot roll back rows, but it can drop the dataset.
 */
async function failCreate(error: unknown, run: Run, name: string, keep: boolean): Promise<unknown> {
  const interrupted = isInterrupt(error);
  const dataset = `dataset "${name}" (${run.datasetId})`;
  let fate = `${dataset} was kept (--keep-session)`;
  if (!keep) {
    try {
      // No signal: after Ctrl-C the run's signal is aborted, and the delete must still go out.
      await run.client.deleteDataset(run.datasetId);
      // The dataset is gone whatever happens to the journal now; a leftover journal is harmless.
      await run.journal?.discard().catch(() => {});
      const gone = `${dataset} was deleted again, so the workspace holds what it held before this run`;
      if (interrupted) return new InterruptedError(`interrupted: ${gone}`, { cause: error });
      return new PartialUploadError(`${errorText(error)}; ${gone}`, {
        cause: error,
        hint: `${hintOf(error)}run the same command again once the cause is fixed (with --keep-session a failed create keeps what it loaded, for --resume)`,
      });
    } catch (deleteError) {
      fate = `${dataset} could not be deleted (${errorText(deleteError)})`;
    }
  }
  const state = `${fate}: ${describeHoldings(run)}`;
  const command = run.settings.resumeCommand;
  const next =
    run.journal !== undefined && command !== undefined
      ? `continue with: ${command} --resume (or delete it and start over with --restart)`
      : `reload it with: mstrpush append ${run.datasetId} <files> --policy replace`;
  if (interrupted) return new InterruptedError(`interrupted: ${state}`, { cause: error, hint: next });
  return new PartialUploadError(`${errorText(error)}; ${state} (Power BI keeps posted rows: there is no transaction to roll back)`, {
    cause: error,
    hint: `${hintOf(error)}${next}`,
  });
}

/** An append failed: rows already posted stay, so say exactly which, and how to go on from here. */
async function failAppend(error: unknown, run: Run, name: string | undefined): Promise<unknown> {
  const interrupted = isInterrupt(error);
  const dataset = `dataset ${name ? `"${name}" ` : ''}(${run.datasetId})`;
  const changed = run.tables.some((t) => t.rows > 0 || t.uncertain.length > 0 || t.deleted);
  if (!changed) {
    // Nothing of this run reached the dataset: there is nothing to continue or to protect.
    await run.journal?.discard();
    if (!interrupted) return error;
  }
  const state = `${dataset}: ${describeHoldings(run)}`;
  const unknown = run.policy === 'add' ? run.tables.find((t) => t.uncertain.length > 0) : undefined;
  const command = run.settings.resumeCommand;
  const last = run.tables[run.tables.length - 1];
  let next: string;
  if (unknown !== undefined) {
    next =
      `Power BI cannot say whether rows ${formatRowRanges(unknown.uncertain)} of ${unknown.file} arrived, so this run cannot be continued exactly; ` +
      `reload the table with: mstrpush append ${run.datasetId} ${unknown.file}:${unknown.name} --policy replace`;
  } else if (!changed) {
    next = 'nothing was added: run the same command again';
  } else if (run.journal !== undefined && command !== undefined) {
    next = `continue with: ${command} --resume`;
  } else {
    next = `load the table again with --policy replace${last ? ` (mstrpush append ${run.datasetId} ${last.file}:${last.name} --policy replace)` : ''}`;
  }
  if (interrupted) return new InterruptedError(`interrupted: ${state}`, { cause: error, hint: next });
  return new PartialUploadError(`${errorText(error)}; ${state} (Power BI keeps posted rows: there is no transaction to roll back)`, {
    cause: error,
    hint: `${hintOf(error)}${next}`,
  });
}

function formatTimeOf(run: Run, epochMs: number): string {
  return (run.settings.formatTime ?? formatClock)(epochMs);
}

/** Local wall-clock time, HH:MM:SS. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `850 ms`, `42 s`, `3 min 5 s`, `2 h 31 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

function fmt(n: number): string {
  return groupThousands(n);
}

function count(n: number, noun: string): string {
  return `${fmt(n)} ${noun}${n === 1 ? '' : 's'}`;
}
