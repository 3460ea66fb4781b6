// Cuts serialized rows into chunks whose JSON text (a top-level array of row arrays) is at most
// `maxBytes` UTF-8 bytes. Pure: rows in, Buffers out; the caller decides what to do with them.

import { InputError } from '../errors.js';

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
 * Accumulates row JSON strings and hands back a finished chunk as soon as the next row would
 * push the chunk past `maxBytes`. Measures bytes with Buffer.byteLength, never string length,
 * because non-ASCII text takes more bytes than characters.
 */
export class ChunkBuilder {
  readonly maxBytes: number;
  readonly #file: string;
  #parts: string[] = [];
  #bytes = BRACKETS;
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

  /** Adds one row; returns the chunk that was completed to make room for it, if any. */
  add(rowJson: string, line: number): Chunk | undefined {
    const rowBytes = Buffer.byteLength(rowJson, 'utf8');
    if (rowBytes + BRACKETS > this.maxBytes) {
      throw new InputError(
        'INPUT_RECORD_TOO_LARGE',
        `row is ${rowBytes + BRACKETS} bytes as JSON, more than the chunk size of ${this.maxBytes} bytes`,
        { location: { file: this.#file, line }, hint: 'raise --chunk-size above the size of the largest row' },
      );
    }
    let completed: Chunk | undefined;
    const extra = this.#parts.length === 0 ? rowBytes : rowBytes + SEPARATOR;
    if (this.#bytes + extra > this.maxBytes) {
      completed = this.flush();
      this.#bytes += rowBytes;
    } else {
      this.#bytes += extra;
    }
    if (this.#parts.length === 0) this.#firstLine = line;
    this.#parts.push(rowJson);
    this.#lastLine = line;
    return completed;
  }

  /** Bytes the pending chunk would have if flushed now. */
  get pendingBytes(): number {
    return this.#parts.length === 0 ? 0 : this.#bytes;
  }

  /** Returns the pending rows as a chunk, or undefined when there are none. */
  flush(): Chunk | undefined {
    if (this.#parts.length === 0) return undefined;
    const data = Buffer.from(`[${this.#parts.join(',')}]`, 'utf8');
    const chunk: Chunk = {
      index: this.#nextIndex++,
      data,
      rows: this.#parts.length,
      firstLine: this.#firstLine,
      lastLine: this.#lastLine,
    };
    this.#parts = [];
    this.#bytes = BRACKETS;
    return chunk;
  }
}
