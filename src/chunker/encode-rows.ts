// The general way to wire JSON: rows of text cells through the row serializer. Sources without
// a byte path of their own use it, and so does the CSV byte path for what it leaves behind.

import type { WireType } from '../schema/types.js';
import type { EncodedBatch, RowBatch } from '../sources/types.js';
import { createRowSerializer } from './serialize.js';

/** Serializes every row of `batches` after the first `skipRows`, one EncodedBatch per RowBatch. */
export async function* encodeRowBatches(
  batches: AsyncIterable<RowBatch>,
  columns: readonly { name: string; type: WireType }[],
  options: { nullTokens: readonly string[]; file?: string; skipRows?: number },
): AsyncGenerator<EncodedBatch> {
  const serialize = createRowSerializer(columns, {
    nullTokens: options.nullTokens,
    ...(options.file === undefined ? {} : { file: options.file }),
  });
  let toSkip = options.skipRows ?? 0;
  for await (const batch of batches) {
    const first = Math.min(toSkip, batch.rows.length);
    toSkip -= first;
    const count = batch.rows.length - first;
    const parts: string[] = [];
    const lines = new Float64Array(count);
    for (let r = first; r < batch.rows.length; r++) {
      const line = batch.lines[r] ?? 0;
      parts.push(serialize(batch.rows[r]!, line));
      lines[r - first] = line;
    }
    const rowEnds = new Uint32Array(count);
    let end = -1;
    for (let k = 0; k < count; k++) {
      end += 1 + Buffer.byteLength(parts[k]!, 'utf8');
      rowEnds[k] = end;
    }
    yield { data: Buffer.from(parts.join(','), 'utf8'), rowEnds, rows: count, lines, bytesRead: batch.bytesRead };
  }
}
