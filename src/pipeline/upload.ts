// Streams one table's rows into an open upload session: serialize, cut into byte-bounded chunks,
// PUT them in index order. At most one chunk is in flight while the next one is being built, so
// memory stays at about two chunks and a slow server slows the reading down.

import { ChunkBuilder } from '../chunker/chunk.js';
import type { Chunk } from '../chunker/chunk.js';
import { encodeRowBatches } from '../chunker/encode-rows.js';
import type { WireType } from '../schema/types.js';
import { nullTokensFor } from '../sources/types.js';
import type { EncodedBatch, TableSource } from '../sources/types.js';
import type { ProgressSink } from './progress.js';

export interface ChunkSender {
  (table: string, chunk: Chunk, signal?: AbortSignal): Promise<void>;
}

export interface UploadTableOptions {
  table: string;
  source: TableSource;
  /** Wire types of the source's columns, in source order. */
  types: readonly WireType[];
  chunkSize: number;
  nullTokens: readonly string[];
  send: ChunkSender;
  progress: ProgressSink;
  signal?: AbortSignal;
  /** Resume: rows already confirmed by the server in earlier runs, and the chunks holding them. */
  skipRows?: number;
  skipChunks?: number;
  /** Called in index order once the server confirmed a chunk (for the run journal). */
  onChunkConfirmed?: (state: { chunks: number; nextRow: number; nextOffset: number }) => Promise<void>;
}

export interface UploadTableResult {
  rows: number;
  chunks: number;
  /** Bytes of JSON uploaded (before base64). */
  bytes: number;
}

export async function uploadTable(options: UploadTableOptions): Promise<UploadTableResult> {
  const { source, table, progress, signal } = options;
  const skipRows = options.skipRows ?? 0;
  const builder = new ChunkBuilder(options.chunkSize, { file: source.displayName, firstIndex: (options.skipChunks ?? 0) + 1 });
  // Rows skipped on resume count as read, as they did when every row passed through here.
  const stats: UploadTableResult = { rows: skipRows, chunks: options.skipChunks ?? 0, bytes: 0 };
  let bytesRead = 0;
  let confirmedRows = skipRows;
  let inFlight: Promise<void> | undefined;

  const dispatch = async (chunk: Chunk) => {
    // Wait for the previous PUT before starting this one: indexes go out in order and only one
    // chunk body is held by the network layer at a time.
    if (inFlight) await inFlight;
    const offsetAtCut = bytesRead;
    inFlight = options.send(table, chunk, signal).then(async () => {
      stats.chunks++;
      stats.bytes += chunk.data.length;
      confirmedRows += chunk.rows;
      builder.recycle(chunk);
      await options.onChunkConfirmed?.({ chunks: chunk.index, nextRow: confirmedRows, nextOffset: offsetAtCut });
      progress.progress({ bytesRead, rows: stats.rows, chunksSent: stats.chunks, bytesSent: stats.bytes });
    });
    // A failure surfaces at the next await; keep Node from reporting it as unhandled meanwhile.
    inFlight.catch(() => {});
  };

  progress.startTable({ table, file: source.displayName, totalBytes: source.totalBytes, pass: 'upload' });
  try {
    for await (const batch of encodedRows(options, skipRows)) {
      for (let from = 0; from < batch.rows; ) {
        const { completed, next } = builder.addRows(batch, from);
        if (completed) await dispatch(completed);
        from = next;
      }
      stats.rows += batch.rows;
      bytesRead = batch.bytesRead;
      progress.progress({ bytesRead, rows: stats.rows, chunksSent: stats.chunks, bytesSent: stats.bytes });
    }
    const last = builder.flush();
    if (last) await dispatch(last);
    if (inFlight) await inFlight;
  } catch (error) {
    // Let an in-flight PUT settle before the caller cancels the session it belongs to.
    if (inFlight) await inFlight.catch(() => {});
    throw error;
  }
  progress.endTable({ bytesRead, rows: stats.rows, chunksSent: stats.chunks, bytesSent: stats.bytes });
  return stats;
}

// The source's own byte path when it has one, else its rows through the serializer.
function encodedRows(options: UploadTableOptions, skipRows: number): AsyncIterable<EncodedBatch> {
  const { source, signal } = options;
  const encodeOptions = { types: options.types, nullTokens: options.nullTokens, skipRows };
  if (source.encodedBatches !== undefined) return source.encodedBatches(encodeOptions, signal);
  const columns = source.columns.map((name, i) => ({ name, type: options.types[i] ?? 'STRING' }));
  return encodeRowBatches(source.batches(signal), columns, {
    nullTokens: nullTokensFor(source, options.nullTokens),
    file: source.displayName,
    skipRows,
  });
}
