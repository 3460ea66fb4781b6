// One upload session from open to published: create (or resume) the session, stream every table,
// publish and wait. If anything fails after the session exists, the session is cancelled so
// nothing half-loaded can be published (or, with keepSession, left open for --resume), and the
// error says which.

import { InterruptedError, PartialUploadError, isMstrPushError } from '../errors.js';
import type { MstrClient } from '../targets/mstr/client.js';
import type { UpdatePolicy } from '../targets/mstr/payload.js';
import type { ColumnSchema } from '../schema/types.js';
import type { TableSource } from '../sources/types.js';
import type { ProgressSink } from './progress.js';
import { waitForPublication } from './publish.js';
import { uploadTable } from './upload.js';
import type { UploadTableResult } from './upload.js';

export interface LoadTable {
  table: string;
  source: TableSource;
  /** One entry per source column, in source order. */
  columns: readonly ColumnSchema[];
  policy: UpdatePolicy;
}

/** Where the run journal is told about progress; the pipeline does not know how it is stored. */
export interface LoadJournal {
  sessionOpened(sessionId: string): Promise<void>;
  chunkConfirmed(table: string, state: { chunks: number; nextRow: number; nextOffset: number }): Promise<void>;
  tableComplete(table: string): Promise<void>;
  publishing(): Promise<void>;
  /** The run ended (published, cancelled, or failed with the session cancelled): forget it. */
  discard(): Promise<void>;
}

/** Continue an unfinished run: its session and what each table already has in it. */
export interface ResumePlan {
  sessionId: string;
  tables: ReadonlyMap<string, { chunks: number; nextRow: number; complete: boolean }>;
}

export interface LoadOptions {
  client: MstrClient;
  datasetId: string;
  tables: readonly LoadTable[];
  chunkSize: number;
  nullTokens: readonly string[];
  publish: boolean;
  /** With publish: wait for the publication to finish (false = return once it started). */
  wait: boolean;
  timeoutMs: number;
  pollIntervalMs: number;
  progress: ProgressSink;
  signal?: AbortSignal;
  journal?: LoadJournal;
  resume?: ResumePlan;
  /** On failure or interrupt, leave the upload session open instead of cancelling it. */
  keepSession?: boolean;
  /** The command to run again with --resume, for messages. */
  resumeCommand?: string;
}

export interface LoadResult {
  sessionId: string;
  published: boolean;
  tables: Array<{ name: string } & UploadTableResult>;
}

export async function loadIntoDataset(options: LoadOptions): Promise<LoadResult> {
  const { client, datasetId, progress, signal, journal, resume } = options;
  let sessionId: string;
  if (resume) {
    sessionId = resume.sessionId;
    progress.info(`resuming upload session ${sessionId}`);
  } else {
    progress.step('opening upload session');
    sessionId = await client.createUploadSession(
      datasetId,
      options.tables.map((t) => ({ name: t.table, policy: t.policy, columns: t.source.columns })),
      signal,
    );
    await journal?.sessionOpened(sessionId);
    progress.stepDone(`upload session ${sessionId} open`);
  }

  const results: LoadResult['tables'] = [];
  let publishStarted = false;
  try {
    for (const table of options.tables) {
      const done = resume?.tables.get(table.table);
      if (done?.complete) {
        progress.info(`${table.table}: already uploaded (${done.chunks} chunks, ${done.nextRow} rows)`);
        results.push({ name: table.table, rows: done.nextRow, chunks: done.chunks, bytes: 0 });
        continue;
      }
      const result = await uploadTable({
        table: table.table,
        source: table.source,
        types: table.columns.map((c) => c.type),
        chunkSize: options.chunkSize,
        nullTokens: options.nullTokens,
        progress,
        ...(signal ? { signal } : {}),
        ...(done ? { skipRows: done.nextRow, skipChunks: done.chunks } : {}),
        ...(journal ? { onChunkConfirmed: (state) => journal.chunkConfirmed(table.table, state) } : {}),
        send: (tableName, chunk, chunkSignal) =>
          client.putChunk(datasetId, sessionId, tableName, chunk.index, chunk.data, chunkSignal),
      });
      await journal?.tableComplete(table.table);
      results.push({ name: table.table, ...result });
    }
    if (!options.publish) {
      await journal?.discard();
      return { sessionId, published: false, tables: results };
    }

    progress.step(`publishing dataset ${datasetId}`);
    await journal?.publishing();
    await client.publish(datasetId, sessionId, signal);
    publishStarted = true;
    if (options.wait) {
      await waitForPublication(client, datasetId, sessionId, {
        timeoutMs: options.timeoutMs,
        pollIntervalMs: options.pollIntervalMs,
        ...(signal ? { signal } : {}),
        onStatus: (s) => progress.step(`publishing dataset ${datasetId}: status ${s.status}${s.message ? ` (${s.message})` : ''}`),
      });
      progress.stepDone(`dataset ${datasetId} published`);
    } else {
      progress.stepDone(`publication of dataset ${datasetId} started`);
    }
    await journal?.discard();
    return { sessionId, published: options.wait, tables: results };
  } catch (error) {
    progress.stepDone(undefined, false);
    const interrupted = isMstrPushError(error) && error.code === 'INTERRUPTED';
    if (publishStarted) {
      // Publication failures already say what state the data is in; an interrupt while waiting
      // leaves the server publishing, which cannot be undone from here.
      await journal?.discard();
      if (interrupted) {
        throw new InterruptedError(
          `interrupted while waiting for the publication of dataset ${datasetId}; the server goes on publishing upload session ${sessionId}`,
          { hint: `check it with: mstrpush status ${datasetId} --session ${sessionId}` },
        );
      }
      throw error;
    }
    const reason = error instanceof Error ? error.message : String(error);
    if (options.keepSession) {
      const fate = `upload session ${sessionId} was left open (--keep-session) and nothing was published`;
      const hint = options.resumeCommand ? `continue with: ${options.resumeCommand} --resume` : `publish it later with: mstrpush publish ${datasetId} --session ${sessionId}`;
      if (interrupted) throw new InterruptedError(`interrupted: ${fate}`, { cause: error, hint });
      throw new PartialUploadError(`loading dataset ${datasetId} failed: ${reason}; ${fate}`, { cause: error, hint });
    }
    const cancelled = await cancelQuietly(client, datasetId, sessionId);
    if (cancelled) await journal?.discard();
    const fate = cancelled
      ? `upload session ${sessionId} was cancelled and nothing was published`
      : `upload session ${sessionId} could not be cancelled; it was not published and the server discards it when it expires`;
    if (interrupted) {
      throw new InterruptedError(`interrupted: ${fate}`, { cause: error });
    }
    throw new PartialUploadError(`loading dataset ${datasetId} failed: ${reason}; ${fate}`, {
      cause: error,
      hint:
        (isMstrPushError(error) && error.hint ? `${error.hint}. ` : '') +
        'the dataset holds what it held before this run; run the same command again once the cause is fixed',
    });
  }
}

async function cancelQuietly(client: MstrClient, datasetId: string, sessionId: string): Promise<boolean> {
  try {
    await client.cancelUploadSession(datasetId, sessionId);
    return true;
  } catch {
    return false;
  }
}
