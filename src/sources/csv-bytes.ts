// The fast CSV path: finds field boundaries in raw UTF-8 bytes, without making a string per field.
// It covers well-formed files only; at anything unusual it stops with CsvFastPathExit and the
// caller redoes the pass with CsvTokenizer, which knows every rule and every error message.

import type { CsvDialect } from './csv-tokenizer.js';

const LF = 10;
const CR = 13;
// Bytes parsed at a time. Each piece gets a latin1 string for searching; at this size those die
// young in V8's new space, where 1 MiB strings would pile up in old space until a full collection
// (which, on a machine with memory to spare, V8 puts off: peak memory then grows with the file).
const PIECE_BYTES = 64 * 1024;

/**
 * Thrown when the byte path meets something it leaves to the string tokenizer: a record with the
 * wrong number of fields, a quote problem, an oversized record. Never shown to users.
 */
export class CsvFastPathExit extends Error {
  constructor(readonly reason: string) {
    super(`CSV fast path stopped: ${reason}`);
  }
}

/** Whether the byte path can read this dialect: single-byte delimiter and quote. */
export function byteDialectSupported(dialect: CsvDialect): boolean {
  const d = dialect.delimiter.charCodeAt(0);
  const q = dialect.quote === null ? 0 : dialect.quote.charCodeAt(0);
  return dialect.delimiter.length === 1 && d < 0x80 && (dialect.quote === null || (dialect.quote.length === 1 && q < 0x80));
}

/** Field flags. */
export const FIELD_QUOTED = 1;
/** Quoted, with doubled quotes inside that stand for one quote each. */
export const FIELD_ESCAPED = 2;

/** Where a record's field f lies in the buffer handed over with it, and its FIELD_* flags. */
export interface ByteFields {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly flags: Uint8Array;
}

/** Receives each complete record; the field tables are reused for the next record. */
export type ByteRecordHandler = (buf: Buffer, line: number) => void;

/**
 * Splits byte chunks into records of exactly `width` fields. For the record being handed over,
 * field f spans `starts[f]`..`ends[f]` in the buffer (the content, quotes excluded), with `flags[f]`.
 */
export class CsvByteTokenizer implements ByteFields {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly flags: Uint8Array;
  readonly #width: number;
  readonly #delimiter: number;
  readonly #quote: number;
  readonly #delimiterChar: string;
  readonly #quoteChar: string;
  readonly #maxRecordBytes: number;
  #carry: Buffer | undefined;
  #work: Buffer | undefined;
  #line = 1;

  constructor(dialect: CsvDialect, width: number, options: { maxRecordBytes?: number | undefined } = {}) {
    if (!byteDialectSupported(dialect)) throw new CsvFastPathExit('multi-byte delimiter or quote');
    this.#width = width;
    this.#delimiter = dialect.delimiter.charCodeAt(0);
    this.#quote = dialect.quote === null ? -1 : dialect.quote.charCodeAt(0);
    this.#delimiterChar = dialect.delimiter;
    // With quoting off, no search for the quote ever runs; any character would do.
    this.#quoteChar = dialect.quote ?? '"';
    this.#maxRecordBytes = options.maxRecordBytes ?? 64 * 1024 * 1024;
    this.starts = new Int32Array(width);
    this.ends = new Int32Array(width);
    this.flags = new Uint8Array(width);
  }

  /** Hands over every record completed by `chunk`; an unfinished one waits for the next chunk. */
  push(chunk: Buffer, onRecord: ByteRecordHandler): void {
    for (let at = 0; at < chunk.length; at += PIECE_BYTES) {
      // A record longer than a piece takes the rest of the chunk at once: re-reading it from its
      // start for every 64 KiB would cost the square of its length.
      const rest = this.#carry !== undefined && this.#carry.length >= PIECE_BYTES;
      this.#push(chunk.subarray(at, rest ? chunk.length : at + PIECE_BYTES), onRecord);
      if (rest) break;
    }
  }

  #push(chunk: Buffer, onRecord: ByteRecordHandler): void {
    const carry = this.#carry;
    let buf = chunk;
    if (carry !== undefined) {
      // The unfinished record and the new bytes go into one reused buffer: no garbage per chunk.
      const size = carry.length + chunk.length;
      let work = this.#work;
      if (work !== undefined && carry.buffer === work.buffer && work.length >= size) {
        const from = carry.byteOffset - work.byteOffset;
        work.copyWithin(0, from, from + carry.length);
      } else {
        // Grows by doubling, so a record spanning many chunks is copied a bounded number of times.
        if (work === undefined || work.length < size) work = Buffer.allocUnsafeSlow(Math.max(size, 2 * chunk.length, 2 * (work?.length ?? 0)));
        carry.copy(work, 0);
      }
      chunk.copy(work, carry.length);
      this.#work = work;
      buf = work.subarray(0, size);
    }
    const at = this.#parse(buf, false, onRecord);
    this.#carry = at < buf.length ? buf.subarray(at) : undefined;
    if (this.#carry !== undefined && this.#carry.length > this.#maxRecordBytes) throw new CsvFastPathExit('record too large');
  }

  /** Hands over the last record, if the input did not end with a line break. */
  end(onRecord: ByteRecordHandler): void {
    const carry = this.#carry;
    this.#carry = undefined;
    if (carry !== undefined) this.#parse(carry, true, onRecord);
  }

  // Returns where the first unfinished record starts (buf.length when none). Delimiters and line
  // breaks are found with String#indexOf on a latin1 view of the bytes (one character per byte,
  // so positions are byte offsets): V8 searches one-byte strings natively, about a third faster
  // than any byte loop here. Each of the next delimiter, LF, CR is searched again only once passed.
  #parse(buf: Buffer, final: boolean, onRecord: ByteRecordHandler): number {
    const n = buf.length;
    const text = buf.toString('latin1', 0, n);
    const d = this.#delimiter;
    const dChar = this.#delimiterChar;
    const q = this.#quote;
    const qChar = this.#quoteChar;
    const width = this.#width;
    const maxRecordBytes = this.#maxRecordBytes;
    let line = this.#line;
    let i = 0;
    let recordStart = 0;
    let f = 0;
    let linesInside = 0;
    let nextDelim = -1;
    let nextLf = -1;
    let nextCr = -1;

    // At the top of this loop, i is where a field starts.
    while (i < n) {
      let c = buf[i]!;
      if (i === recordStart && (c === LF || c === CR)) {
        // A line with no characters: no record. A CR at the very end may be half of a CRLF.
        if (c === CR && i + 1 === n && !final) break;
        line++;
        i = recordStart = c === CR && buf[i + 1] === LF ? i + 2 : i + 1;
        continue;
      }
      if (f === width) throw new CsvFastPathExit(`more than ${width} fields at line ${line}`);
      let end: number;
      if (c === q) {
        const start = i + 1;
        let k = start;
        let flag = FIELD_QUOTED;
        for (;;) {
          k = text.indexOf(qChar, k);
          if (k < 0 || k + 1 >= n || buf[k + 1] !== q) break;
          flag |= FIELD_ESCAPED;
          k += 2;
        }
        if (k < 0 || (k + 1 >= n && !final)) {
          // The closing quote (or what follows it) is in a later chunk.
          if (!final) break;
          throw new CsvFastPathExit('unterminated quote');
        }
        // Line breaks inside quotes are data, but still count as lines.
        if (nextLf < start) nextLf = indexOrEnd(text, '\n', start);
        while (nextLf < k) {
          linesInside++;
          nextLf = indexOrEnd(text, '\n', nextLf + 1);
        }
        if (nextCr < start) nextCr = indexOrEnd(text, '\r', start);
        while (nextCr < k) {
          if (buf[nextCr + 1] !== LF) linesInside++;
          nextCr = indexOrEnd(text, '\r', nextCr + 1);
        }
        this.#store(f, start, k, flag);
        end = k + 1;
        c = end < n ? buf[end]! : -1;
        if (c !== d && c !== LF && c !== CR && c !== -1) throw new CsvFastPathExit('text after a closing quote');
      } else {
        if (nextDelim < i) nextDelim = indexOrEnd(text, dChar, i);
        if (nextLf < i) nextLf = indexOrEnd(text, '\n', i);
        if (nextCr < i) nextCr = indexOrEnd(text, '\r', i);
        end = nextDelim < nextLf ? nextDelim : nextLf;
        if (nextCr < end) end = nextCr;
        if (end === n && !final) break;
        this.#store(f, i, end, 0);
        c = end < n ? buf[end]! : -1;
      }
      f++;
      if (c === d) {
        i = end + 1;
        if (i < n) continue;
        if (!final) break;
        // The input ends right after a delimiter: one more, empty field.
        if (f === width) throw new CsvFastPathExit(`more than ${width} fields at line ${line}`);
        this.#store(f, n, n, 0);
        f++;
      }
      // The record ends: at a line break, or at the end of the input.
      if (c === CR && end + 1 === n && !final) break;
      if (f !== width) throw new CsvFastPathExit(`${f} fields instead of ${width} at line ${line}`);
      if (end - recordStart > maxRecordBytes) throw new CsvFastPathExit('record too large');
      onRecord(buf, line);
      line += 1 + linesInside;
      linesInside = 0;
      f = 0;
      i = recordStart = c === CR && buf[end + 1] === LF ? end + 2 : Math.min(end + 1, n);
    }
    this.#line = line;
    // Stopped inside a record: it is parsed whole once the rest of it arrives.
    return i < n || f > 0 ? recordStart : n;
  }

  #store(f: number, start: number, end: number, flag: number): void {
    this.starts[f] = start;
    this.ends[f] = end;
    this.flags[f] = flag;
  }
}

function indexOrEnd(text: string, search: string, from: number): number {
  const at = text.indexOf(search, from);
  return at < 0 ? text.length : at;
}
