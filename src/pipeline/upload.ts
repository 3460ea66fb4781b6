// Streams one table's rows into an open upload session: serialize, cut into byte-bounded chunks,
// PUT them in index order. At most one chunk is in flight while the next one is being built, so
// memory stays at about two chunks and a slow server slows the reading down.

import { ChunkBuilder } from '../chunker/chunk.js';
import type { Chunk } from '../chunker/chunk.js';
import { createRowSerializer } from '../chunker/serialize.js';
import type { WireType } from '../schema/types.js';
import { nullTokensFor } from '../sources/types.js';
import type { TableSource } from '../sources/types.js';
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
  const serialize = createRowSerializer(
    source.columns.map((name, i) => ({ name, type: options.types[i] ?? 'STRING' })),
    { nullTokens: nullTokensFor(source, options.nullTokens), file: source.displayName },
  );
  const skipRows = options.skipRows ?? 0;
  const builder = new ChunkBuilder(options.chunkSize, { file: source.displayName, firstIndex: (options.skipChunks ?? 0) + 1 });
  const stats: UploadTableResult = { rows: 0, chunks: options.skipChunks ?? 0, bytes: 0 };
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
      await options.onChunkConfirmed?.({ chunks: chunk.index, nextRow: confirmedRows, nextOffset: offsetAtCut });
      progress.progress({ bytesRead, rows: stats.rows, chunksSent: stats.chunks, bytesSent: stats.bytes });
    });
    // A failure surfaces at the next await; keep Node from reporting it as unhandled meanwhile.
    inFlight.catch(() => {});
  };

  progress.startTable({ table, file: source.displayName, totalBytes: source.totalBytes, pass: 'upload' });
  try {
    let toSkip = skipRows;
    for await (const batch of source.batches(signal)) {
      const { rows, lines } = batch;
      // Rows the server confirmed in an earlier run are read past, not sent again.
      const first = Math.min(toSkip, rows.length);
      toSkip -= first;
      for (let i = first; i < rows.length; i++) {
        const line = lines[i] ?? 0;
        const completed = builder.add(serialize(rows[i]!, line), line);
        if (completed) await dispatch(completed);
      }
      stats.rows += rows.length;
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
