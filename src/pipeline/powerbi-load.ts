// Loads tables into a Power BI push dataset: checks every value against the push limits before the
// first request, warns when the hourly caps stretch the push, then posts batches of rows, paced
// under the documented limits, resending a batch after a 429 or an expired token. Power BI has no
// transactions, so a failure says exactly how many rows of this run the dataset holds.

import { nullTokensFor } from '../sources/types.js';
import { InputError, InternalError, InterruptedError, PartialUploadError, RemoteError, UsageError, isMstrPushError } from '../errors.js';
import type { ColumnSchema, WireType } from '../schema/types.js';
import type { TableSource } from '../sources/types.js';
import type { PowerBiClient } from '../targets/powerbi/client.js';
import { RowsBatcher, buildCreateDataset, checkPowerBiSchema, createPowerBiRowSerializer } from '../targets/powerbi/payload.js';
import type { RowsBatch } from '../targets/powerbi/payload.js';
import { POWERBI_LIMITS, powerBiTypeOf } from '../targets/powerbi/types.js';
import type { PowerBiDataType, PowerBiDefinition, PowerBiRetention } from '../targets/powerbi/types.js';
import { POWERBI_RATE_LIMITS, RatePacer, estimatePush, scaleLimits } from './pacer.js';
import type { PostTicket, RateLimits, WaitReason } from './pacer.js';
import type { ProgressSink } from './progress.js';
import { sleep } from '../util/sleep.js';

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
  clock?: PushClock | undefined;
  /** Shows a clock time in messages; default local HH:MM:SS. */
  formatTime?: ((epochMs: number) => string) | undefined;
}

export interface PowerBiCreateOptions extends PowerBiPushSettings {
  name: string;
  retention: PowerBiRetention;
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
  /** Tokens renewed after a 403 TokenExpired. */
  tokenRefreshes: number;
}

/**
 * `create`: checks the schema and every value, creates the dataset (one table per source) and
 * posts all rows. Anything that fails after the dataset exists is a PartialUploadError naming it.
 */
export async function runPowerBiCreate(client: PowerBiClient, tables: readonly PowerBiLoadTable[], options: PowerBiCreateOptions): Promise<PowerBiLoadResult> {
  const name = options.name.trim();
  if (name === '') throw new UsageError('--name must not be empty');
  const schemas = tables.map(schemaOf);
  checkPowerBiSchema(schemas);
  const plans = await planTables(tables, options);
  checkRetention(plans, options.retention, options.progress, true);
  announceEstimate(plans, options, options.retention, {});

  const { progress, signal } = options;
  progress.step(`creating dataset "${name}" in ${client.workspace}`);
  const created = await client.createDataset(buildCreateDataset(name, schemas), options.retention, signal);
  progress.stepDone(`dataset "${name}" created: ${created.id}`);

  const refreshesBefore = client.tokenRefreshes;
  const run = newRun(client, created.id, options, options.retention, {});
  try {
    await pushAll(run, tables, 'add');
  } catch (error) {
    throw explainFailure(error, run, { created: true, name });
  }
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
  const run = newRun(client, definition.id, options, retention, {});
  try {
    await pushAll(run, tables, options.policy);
  } catch (error) {
    throw explainFailure(error, run, { created: false, name: definition.name });
  }
  return resultOf(run, client, { name: definition.name ?? null, retention: definition.retention ?? null, policy: options.policy, tables, refreshesBefore });
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
  rows: number;
  batches: number;
  bytes: number;
  deleted: boolean;
}

interface Run {
  client: PowerBiClient;
  datasetId: string;
  settings: PowerBiPushSettings;
  clock: PushClock;
  limits: RateLimits;
  pacer: RatePacer;
  concurrency: number;
  maxRows: number;
  maxBytes: number;
  max429: number;
  throttled: number;
  paced: number;
  tables: TableProgressState[];
  /** Resolves when any request finishes; replaced each time. */
  answered: Promise<void>;
  notify: () => void;
  shownWait: { reason: WaitReason; until: number } | undefined;
  lastNotice: { reason: WaitReason; at: number } | undefined;
  /** Set once a request failed: batches not yet sent stay unsent. */
  stopped: boolean;
}

function newRun(client: PowerBiClient, datasetId: string, settings: PowerBiPushSettings, retention: PowerBiRetention, tableRows: Record<string, number>): Run {
  const limits = limitsOf(settings);
  const { maxRows, maxBytes } = batchLimits(settings);
  let resolve: () => void = () => {};
  const run: Run = {
    client,
    datasetId,
    settings,
    clock: settings.clock ?? REAL_CLOCK,
    limits,
    pacer: new RatePacer(limits, { retention, tableRows }),
    concurrency: concurrencyOf(settings, limits),
    maxRows,
    maxBytes,
    max429: settings.max429PerBatch ?? 10,
    throttled: 0,
    paced: 0,
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

async function pushAll(run: Run, tables: readonly PowerBiLoadTable[], policy: PowerBiAppendPolicy): Promise<void> {
  const { client, datasetId, settings } = run;
  for (const table of tables) {
    const state: TableProgressState = { name: table.table, rows: 0, batches: 0, bytes: 0, deleted: false };
    run.tables.push(state);
    if (policy === 'replace') {
      settings.progress.step(`deleting the rows of table "${table.table}"`);
      await client.deleteRows(datasetId, table.table, settings.signal);
      state.deleted = true;
      run.pacer.resetTable(table.table);
      settings.progress.stepDone(`rows of table "${table.table}" deleted`);
    }
    await pushTable(run, table, state);
  }
}

/**
 * Streams one table: rows are serialized and batched while up to `concurrency` POSTs are out,
 * so reading waits for the network and memory holds at most concurrency + 1 bodies. Requests
 * already sent are allowed to finish after a failure or an interrupt, so the counts are exact.
 */
async function pushTable(run: Run, table: PowerBiLoadTable, state: TableProgressState): Promise<void> {
  const { settings } = run;
  const { progress, signal } = settings;
  const { source } = table;
  const serialize = createPowerBiRowSerializer(table.columns, { nullTokens: nullTokensFor(source, settings.nullTokens), file: source.displayName });
  const batcher = new RowsBatcher({ maxRows: run.maxRows, maxBytes: run.maxBytes, file: source.displayName });
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let bytesRead = 0;
  let rowNumber = 0;
  const report = () => progress.progress({ bytesRead, rows: state.rows, chunksSent: state.batches, bytesSent: state.bytes });

  const launch = async (batch: RowsBatch) => {
    while (inFlight.size >= run.concurrency) await Promise.race(inFlight);
    if (failure) return;
    const sending: Promise<void> = sendBatch(run, table.table, batch)
      .then(
        () => {
          state.rows += batch.rows;
          state.batches++;
          state.bytes += batch.bytes;
          report();
        },
        (error: unknown) => {
          failure ??= { error };
          run.stopped = true;
          run.notify();
        },
      )
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
        const done = batcher.add(serialize(batch.rows[i]!, line, rowNumber), line, rowNumber);
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

/** Sends one batch until it is accepted: paced, and resent after each 429 once Retry-After has passed. */
async function sendBatch(run: Run, table: string, batch: RowsBatch): Promise<void> {
  const { client, pacer, clock, settings } = run;
  for (let throttles = 0; ; ) {
    const ticket = await acquireSlot(run, table, batch.rows);
    let answer;
    try {
      // No abort signal here: an interrupted POST would leave unknown whether its rows were added.
      answer = await client.postRows(run.datasetId, table, batch.body);
    } catch (error) {
      pacer.finish(ticket, clock.now(), 'unknown');
      run.notify();
      throw error;
    }
    if (answer.kind === 'ok') {
      pacer.finish(ticket, clock.now(), 'accepted');
      run.notify();
      return;
    }
    const now = clock.now();
    pacer.finish(ticket, now, 'rejected');
    pacer.throttle(now + answer.retryAfterMs);
    run.throttled++;
    run.notify();
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
  };
}

/** Turns a failure mid-push into a message that says what the dataset now holds. */
function explainFailure(error: unknown, run: Run, context: { created: boolean; name: string | undefined }): unknown {
  const added = run.tables.filter((t) => t.rows > 0);
  const deleted = run.tables.filter((t) => t.deleted);
  // A 5xx or a dropped connection after the body went out leaves that one request's rows unknown.
  const unsure = isMstrPushError(error) && (error as { mayHaveTakenEffect?: boolean }).mayHaveTakenEffect === true;
  const dataset = `dataset ${context.name ? `"${context.name}" ` : ''}(${run.datasetId})`;
  let holds =
    added.length === 0
      ? 'no rows of this run were added'
      : `it holds ${added.map((t) => `${fmt(t.rows)} rows of this run in table "${t.name}"`).join(', ')}`;
  if (unsure) holds += added.length === 0 ? ' for certain; the request that failed may have added its rows' : ', and perhaps the rows of the request that failed';
  const emptied = deleted.length > 0 ? `; the old rows of ${deleted.map((t) => `"${t.name}"`).join(', ')} were deleted` : '';
  const state = `${context.created ? `${dataset} was created; ` : `${dataset}: `}${holds}${emptied}`;
  if (isMstrPushError(error) && error.code === 'INTERRUPTED') {
    return new InterruptedError(`interrupted: ${state}`, { cause: error, hint: 'Power BI keeps rows already posted; load the table again with --policy replace' });
  }
  if (!context.created && added.length === 0 && deleted.length === 0 && !unsure) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const failing = run.tables[run.tables.length - 1];
  const next = context.created
    ? `reload it with: mstrpush append ${run.datasetId} <files> --policy replace`
    : `load the table again with --policy replace${failing ? ` (mstrpush append ${run.datasetId} <file>:${failing.name} --policy replace)` : ''}`;
  return new PartialUploadError(`${reason}; ${state} (Power BI keeps posted rows: there is no transaction to roll back)`, {
    cause: error,
    hint: (isMstrPushError(error) && error.hint ? `${error.hint}. ` : '') + next,
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
  return n.toLocaleString('en-US');
}
