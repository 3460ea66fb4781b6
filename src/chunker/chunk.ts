// Cuts serialized rows into chunks whose JSON text (a top-level array of row arrays) is at most
// `maxBytes` UTF-8 bytes. Pure: rows in, Buffers out; the caller decides what to do with them.

import { InputError } from '../errors.js';
import type { EncodedBatch } from '../sources/types.js';

export interface Chunk {
  /** 1-based position of the chunk within its table, which is the Push API's `index`. */
  index: number;
  /** The chunk's JSON text, `[row,row,...]`, as UTF-8. A complete Buffer so a retry can resend it. */
  data: Buffer;
  rows: number;
  /** Source lines of the first and last row, for error messages and resume bookkeeping. */
  firstLine: number;
  lastLine: number;
}

// The array brackets cost two bytes per chunk and each row after the first one comma.
const BRACKETS = 2;
const SEPARATOR = 1;

/**
 * Packs rows, already in wire JSON, into chunks of at most `maxBytes` bytes, handing back each
 * chunk as soon as the next row would push it past the limit. Runs of rows are copied as they
 * are (EncodedBatch text already has the commas between rows), so the cost is one memcpy.
 */
export class ChunkBuilder {
  readonly maxBytes: number;
  readonly #file: string;
  #data: Buffer | undefined;
  // Bytes the pending chunk would have if flushed now, brackets included.
  #bytes = BRACKETS;
  #rows = 0;
  #firstLine = 0;
  #lastLine = 0;
  #nextIndex: number;

  constructor(maxBytes: number, options: { file: string; firstIndex?: number }) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 3) {
      throw new RangeError(`chunk size must be an integer of at least 3 bytes, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
    this.#file = options.file;
    this.#nextIndex = options.firstIndex ?? 1;
  }

  /** Adds one row's JSON text; returns the chunk that was completed to make room for it, if any. */
  add(rowJson: string, line: number): Chunk | undefined {
    const data = Buffer.from(rowJson, 'utf8');
    const batch = { data, rowEnds: Uint32Array.of(data.length), rows: 1, lines: Float64Array.of(line), bytesRead: 0 };
    const { completed, next } = this.addRows(batch);
    if (next === 0) this.addRows(batch, next);
    return completed;
  }

  /**
   * Adds the rows of `batch` from row `from` on, and stops at the first chunk they complete: the
   * caller hands that chunk on, and may wait for the server, before the rest of the batch is
   * copied into the next chunk's buffer. (Copying on at once would need a third buffer whenever
   * the reading runs ahead of the server.) Returns the completed chunk, if any, and the first
   * row not yet added: batch.rows when every row was.
   */
  addRows(batch: EncodedBatch, from = 0): { completed: Chunk | undefined; next: number } {
    const { data, rowEnds, lines, rows } = batch;
    // Rows after the first are preceded by a comma in data; a run starting there skips it.
    let runStart = from === 0 ? 0 : rowEnds[from - 1]! + 1;
    for (let r = from; r < rows; r++) {
      const rowStart = r === 0 ? 0 : rowEnds[r - 1]! + 1;
      const rowBytes = rowEnds[r]! - rowStart;
      if (rowBytes + BRACKETS > this.maxBytes) {
        throw new InputError(
          'INPUT_RECORD_TOO_LARGE',
          `row is ${rowBytes + BRACKETS} bytes as JSON, more than the chunk size of ${this.maxBytes} bytes`,
          { location: { file: this.#file, line: lines[r]! }, hint: 'raise --chunk-size above the size of the largest row' },
        );
      }
      const extra = this.#rows === 0 ? rowBytes : rowBytes + SEPARATOR;
      if (this.#bytes + extra > this.maxBytes) {
        this.#append(data, runStart, rowStart === 0 ? 0 : rowStart - 1);
        return { completed: this.flush(), next: r };
      }
      this.#bytes += extra;
      if (this.#rows === 0) this.#firstLine = lines[r]!;
      this.#rows++;
      this.#lastLine = lines[r]!;
    }
    if (rows > from) this.#append(data, runStart, rowEnds[rows - 1]!);
    return { completed: undefined, next: rows };
  }

  /** Bytes the pending chunk would have if flushed now. */
  get pendingBytes(): number {
    return this.#rows === 0 ? 0 : this.#bytes;
  }

  /** Returns the pending rows as a chunk, or undefined when there are none. */
  flush(): Chunk | undefined {
    if (this.#rows === 0 || this.#data === undefined) return undefined;
    const length = this.#bytes;
    this.#data[length - 1] = 0x5d;
    const chunk: Chunk = {
      index: this.#nextIndex++,
      data: this.#data.length === length ? this.#data : this.#data.subarray(0, length),
      rows: this.#rows,
      firstLine: this.#firstLine,
      lastLine: this.#lastLine,
    };
    this.#data = undefined;
    this.#filled = 0;
    this.#rows = 0;
    this.#bytes = BRACKETS;
    return chunk;
  }

  // Bytes written to #data so far: the opening bracket and the rows copied in.
  #filled = 0;
  // A confirmed chunk's memory, for the next chunk to reuse.
  #spare: ArrayBuffer | undefined;

  /**
   * Takes back a chunk the server has confirmed, so its memory holds the next chunk: a run keeps
   * two chunk buffers however long the file, as long as each chunk addRows completes is confirmed
   * before the next call. The chunk must not be used afterwards.
   */
  recycle(chunk: Chunk): void {
    const { buffer, byteOffset } = chunk.data;
    // Only buffers made here (at offset 0, resizable up to the chunk size) may be written over.
    if (this.#spare !== undefined || byteOffset !== 0 || !(buffer instanceof ArrayBuffer) || !buffer.resizable || buffer.maxByteLength !== this.maxBytes) return;
    // A chunk being filled means the reading is the slower side: this memory would sit idle, all
    // of its pages resident, until that chunk is done. Shrinking a resizable ArrayBuffer gives
    // the pages back to the system, and they come back zeroed as the next chunk writes them, so a
    // slow reader holds one full chunk and a filling one, not two full ones. When no chunk is
    // being filled, a completed one waits for the network and this memory is needed at once.
    if (this.#data !== undefined) buffer.resize(0);
    this.#spare = buffer;
  }

  // Copies data[from, to) to the end of the pending chunk, after a comma if rows precede it.
  #append(data: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (this.#data === undefined) {
      // The whole chunk size at once: pages count toward memory only once written, and a chunk
      // that never has to move is never held twice during a copy.
      const memory = this.#spare ?? new ArrayBuffer(this.maxBytes, { maxByteLength: this.maxBytes });
      if (memory.byteLength !== this.maxBytes) memory.resize(this.maxBytes);
      this.#data = Buffer.from(memory, 0, this.maxBytes);
      this.#spare = undefined;
      this.#data[0] = 0x5b;
      this.#filled = 1;
    }
    if (this.#filled > 1) this.#data[this.#filled++] = 0x2c;
    data.copy(this.#data, this.#filled, from, to);
    this.#filled += to - from;
  }
}
