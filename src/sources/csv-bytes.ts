// The fast CSV path: finds field boundaries in raw UTF-8 bytes, without making a string per field.
// It covers well-formed files only; at anything unusual it stops with CsvFastPathExit and the
// caller redoes the pass with CsvTokenizer, which knows every rule and every error message.

import type { CsvDialect } from './csv-tokenizer.js';

const LF = 10;
const CR = 13;

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

/** Receives each complete record; the field tables are reused for the next record. */
export type ByteRecordHandler = (buf: Buffer, line: number) => void;

/**
 * Splits byte chunks into records of exactly `width` fields. For the record being handed over,
 * field f spans `starts[f]`..`ends[f]` in the buffer (the content, quotes excluded), with `flags[f]`.
 */
export class CsvByteTokenizer {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly flags: Uint8Array;
  readonly #width: number;
  readonly #delimiter: number;
  readonly #quote: number;
  readonly #maxRecordBytes: number;
  #carry: Buffer | undefined;
  #line = 1;

  constructor(dialect: CsvDialect, width: number, options: { maxRecordBytes?: number | undefined } = {}) {
    if (!byteDialectSupported(dialect)) throw new CsvFastPathExit('multi-byte delimiter or quote');
    this.#width = width;
    this.#delimiter = dialect.delimiter.charCodeAt(0);
    this.#quote = dialect.quote === null ? -1 : dialect.quote.charCodeAt(0);
    this.#maxRecordBytes = options.maxRecordBytes ?? 64 * 1024 * 1024;
    this.starts = new Int32Array(width);
    this.ends = new Int32Array(width);
    this.flags = new Uint8Array(width);
  }

  /** Hands over every record completed by `chunk`; an unfinished one waits for the next chunk. */
  push(chunk: Buffer, onRecord: ByteRecordHandler): void {
    const carry = this.#carry;
    const buf = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
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

  // Returns where the first unfinished record starts (buf.length when none).
  #parse(buf: Buffer, final: boolean, onRecord: ByteRecordHandler): number {
    const n = buf.length;
    const d = this.#delimiter;
    const q = this.#quote;
    const width = this.#width;
    const starts = this.starts;
    const ends = this.ends;
    const flags = this.flags;
    let line = this.#line;
    let i = 0;
    let nextLf = -1;
    let nextCr = -1;

    records: while (i < n) {
      const recordStart = i;
      const recordLine = line;
      let c = buf[i]!;
      if (c === LF || c === CR) {
        // A line with no characters: no record. A CR at the very end may be half of a CRLF.
        if (c === CR) {
          if (i + 1 === n && !final) break;
          i += buf[i + 1] === LF ? 2 : 1;
        } else {
          i++;
        }
        line++;
        continue;
      }
      let f = 0;
      let linesInside = 0;
      for (;;) {
        if (f === width) throw new CsvFastPathExit(`more than ${width} fields at line ${recordLine}`);
        let end: number;
        let flag = 0;
        if (c === q) {
          // Quoted: jump from quote to quote; line breaks inside are data but still count as lines.
          const start = i + 1;
          let k = start;
          for (;;) {
            k = buf.indexOf(q, k);
            if (k < 0 || k + 1 >= n) {
              if (!final) {
                i = recordStart;
                break records;
              }
              if (k < 0) throw new CsvFastPathExit('unterminated quote');
              break;
            }
            if (buf[k + 1] !== q) break;
            flag |= FIELD_ESCAPED;
            k += 2;
          }
          starts[f] = start;
          ends[f] = k;
          // Line breaks inside quotes are rare: the next LF and CR are looked up natively, and
          // again only once passed.
          if (nextLf < start) nextLf = indexOrEnd(buf, LF, start);
          while (nextLf < k) {
            linesInside++;
            nextLf = indexOrEnd(buf, LF, nextLf + 1);
          }
          if (nextCr < start) nextCr = indexOrEnd(buf, CR, start);
          while (nextCr < k) {
            if (buf[nextCr + 1] !== LF) linesInside++;
            nextCr = indexOrEnd(buf, CR, nextCr + 1);
          }
          flags[f] = flag | FIELD_QUOTED;
          end = k + 1;
          c = end < n ? buf[end]! : -1;
          if (c !== d && c !== LF && c !== CR && c !== -1) throw new CsvFastPathExit('text after a closing quote');
        } else {
          let p = i;
          while (p < n) {
            c = buf[p]!;
            // Line breaks are the only bytes below 14 that matter, so most bytes take one test here.
            if (c === d || (c < 14 && (c === LF || c === CR))) break;
            p++;
          }
          if (p === n) {
            if (!final) {
              i = recordStart;
              break records;
            }
            c = -1;
          }
          starts[f] = i;
          ends[f] = p;
          flags[f] = 0;
          end = p;
        }
        f++;
        if (c === d) {
          i = end + 1;
          if (i < n) {
            c = buf[i]!;
            continue;
          }
          if (!final) {
            i = recordStart;
            break records;
          }
          // The input ends right after a delimiter: one more, empty field.
          if (f === width) throw new CsvFastPathExit(`more than ${width} fields at line ${recordLine}`);
          starts[f] = i;
          ends[f] = i;
          flags[f] = 0;
          f++;
          c = -1;
        }
        // End of the record: a line break, or the end of the input.
        if (c === CR) {
          if (end + 1 === n && !final) {
            i = recordStart;
            break records;
          }
          i = buf[end + 1] === LF ? end + 2 : end + 1;
        } else {
          i = c === LF ? end + 1 : n;
        }
        break;
      }
      if (f !== width) throw new CsvFastPathExit(`${f} fields instead of ${width} at line ${recordLine}`);
      if (i - recordStart > this.#maxRecordBytes) throw new CsvFastPathExit('record too large');
      line += linesInside + (c === -1 ? 0 : 1);
      onRecord(buf, recordLine);
      this.#line = line;
      continue;
    }
    // Lines of a record left unfinished are counted again when it is parsed whole.
    this.#line = line;
    return i;
  }
}

function indexOrEnd(buf: Buffer, byte: number, from: number): number {
  const at = buf.indexOf(byte, from);
  return at < 0 ? buf.length : at;
}
