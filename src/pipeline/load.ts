// One upload session from open to published: create the session, stream every table, publish
// and wait. If anything fails after the session exists, the session is cancelled so nothing
// half-loaded can be published, and the error says so.

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
}

export interface LoadResult {
  sessionId: string;
  published: boolean;
  tables: Array<{ name: string } & UploadTableResult>;
}

export async function loadIntoDataset(options: LoadOptions): Promise<LoadResult> {
  const { client, datasetId, progress, signal } = options;
  progress.step('opening upload session');
  const sessionId = await client.createUploadSession(
    datasetId,
    options.tables.map((t) => ({ name: t.table, policy: t.policy, columns: t.source.columns })),
    signal,
  );
  progress.stepDone(`upload session ${sessionId} open`);

  const results: LoadResult['tables'] = [];
  let publishStarted = false;
  try {
    for (const table of options.tables) {
      const result = await uploadTable({
        table: table.table,
        source: table.source,
        types: table.columns.map((c) => c.type),
        chunkSize: options.chunkSize,
        nullTokens: options.nullTokens,
        progress,
        ...(signal ? { signal } : {}),
        send: (tableName, chunk, chunkSignal) =>
          client.putChunk(datasetId, sessionId, tableName, chunk.index, chunk.data, chunkSignal),
      });
      results.push({ name: table.table, ...result });
    }
    if (!options.publish) return { sessionId, published: false, tables: results };

    progress.step(`publishing dataset ${datasetId}`);
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
    return { sessionId, published: options.wait, tables: results };
  } catch (error) {
    progress.stepDone(undefined, false);
    if (publishStarted) {
      // Publication failures already say what state the data is in; an interrupt while waiting
      // leaves the server publishing, which cannot be undone from here.
      if (isMstrPushError(error) && error.code === 'INTERRUPTED') {
        throw new InterruptedError(
          `interrupted while waiting for the publication of dataset ${datasetId}; the server goes on publishing upload session ${sessionId}`,
          { hint: `check it with: mstrpush status ${datasetId} --session ${sessionId}` },
        );
      }
      throw error;
    }
    const cancelled = await cancelQuietly(client, datasetId, sessionId);
    const fate = cancelled
      ? `upload session ${sessionId} was cancelled and nothing was published`
      : `upload session ${sessionId} could not be cancelled; it was not published and the server discards it when it expires`;
    if (isMstrPushError(error) && error.code === 'INTERRUPTED') {
      throw new InterruptedError(`interrupted: ${fate}`, { cause: error });
    }
    const reason = error instanceof Error ? error.message : String(error);
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
