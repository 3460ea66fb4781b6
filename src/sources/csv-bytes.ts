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
  #work: Buffer | undefined;
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
    let buf = chunk;
    if (carry !== undefined) {
      // The unfinished record and the new bytes go into one reused buffer: no garbage per chunk.
      const size = carry.length + chunk.length;
      let work = this.#work;
      if (work !== undefined && carry.buffer === work.buffer && work.length >= size) {
        const from = carry.byteOffset - work.byteOffset;
        work.copyWithin(0, from, from + carry.length);
      } else {
        if (work === undefined || work.length < size) work = Buffer.allocUnsafeSlow(Math.max(size, 2 * chunk.length));
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

  // Returns where the first unfinished record starts (buf.length when none). One flat loop over
  // the bytes: a delimiter closes a field, a line break a record; a quote at the start of a
  // field jumps to its closing quote with native searches.
  #parse(buf: Buffer, final: boolean, onRecord: ByteRecordHandler): number {
    const n = buf.length;
    const d = this.#delimiter;
    const q = this.#quote;
    const width = this.#width;
    const starts = this.starts;
    const ends = this.ends;
    const flags = this.flags;
    const maxRecordBytes = this.#maxRecordBytes;
    let line = this.#line;
    let i = 0;
    let recordStart = 0;
    let fieldStart = 0;
    let f = 0;
    // The field at f was quoted and is already stored; the loop stands on the byte after it.
    let quotedDone = false;
    let linesInside = 0;
    let nextLf = -1;
    let nextCr = -1;

    while (i < n) {
      const c = buf[i]!;
      if (c === d) {
        if (f === width) throw new CsvFastPathExit(`more than ${width} fields at line ${line}`);
        if (quotedDone) quotedDone = false;
        else this.#store(f, fieldStart, i, 0);
        f++;
        fieldStart = ++i;
        continue;
      }
      if (c === LF || c === CR) {
        // A CR at the very end may be the first half of a CRLF.
        if (c === CR && i + 1 === n && !final) break;
        const next = c === CR && buf[i + 1] === LF ? i + 2 : i + 1;
        if (i === recordStart) {
          // A line with no characters: no record.
          line++;
          i = recordStart = fieldStart = next;
          continue;
        }
        if (f === width) throw new CsvFastPathExit(`more than ${width} fields at line ${line}`);
        if (quotedDone) quotedDone = false;
        else this.#store(f, fieldStart, i, 0);
        if (f + 1 !== width) throw new CsvFastPathExit(`${f + 1} fields instead of ${width} at line ${line}`);
        if (i - recordStart > maxRecordBytes) throw new CsvFastPathExit('record too large');
        onRecord(buf, line);
        line += 1 + linesInside;
        linesInside = 0;
        f = 0;
        i = recordStart = fieldStart = next;
        continue;
      }
      if (c === q && i === fieldStart && !quotedDone) {
        if (f === width) throw new CsvFastPathExit(`more than ${width} fields at line ${line}`);
        const start = i + 1;
        let k = start;
        let flag = FIELD_QUOTED;
        for (;;) {
          k = buf.indexOf(q, k);
          if (k < 0 || k + 1 >= n) break;
          if (buf[k + 1] !== q) break;
          flag |= FIELD_ESCAPED;
          k += 2;
        }
        if (k < 0 || (k + 1 >= n && !final)) {
          // The closing quote (or what follows it) is in a later chunk.
          if (!final) break;
          throw new CsvFastPathExit('unterminated quote');
        }
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
        this.#store(f, start, k, flag);
        quotedDone = true;
        i = k + 1;
        if (i < n) {
          const after = buf[i]!;
          if (after !== d && after !== LF && after !== CR) throw new CsvFastPathExit('text after a closing quote');
        }
        continue;
      }
      if (quotedDone) throw new CsvFastPathExit('text after a closing quote');
      i++;
    }

    if (i < n || !final) {
      // Stopped inside a record: it is parsed whole once the rest of it arrives.
      this.#line = line;
      return recordStart;
    }
    if (recordStart < n) {
      // The input ends without a line break after the last record.
      if (f === width) throw new CsvFastPathExit(`more than ${width} fields at line ${line}`);
      if (!quotedDone) this.#store(f, fieldStart, n, 0);
      if (f + 1 !== width) throw new CsvFastPathExit(`${f + 1} fields instead of ${width} at line ${line}`);
      if (n - recordStart > maxRecordBytes) throw new CsvFastPathExit('record too large');
      onRecord(buf, line);
    }
    this.#line = line;
    return n;
  }

  #store(f: number, start: number, end: number, flag: number): void {
    this.starts[f] = start;
    this.ends[f] = end;
    this.flags[f] = flag;
  }
}

function indexOrEnd(buf: Buffer, byte: number, from: number): number {
  const at = buf.indexOf(byte, from);
  return at < 0 ? buf.length : at;
}
