// Incremental CSV tokenizer: decoded text chunks of any size in, complete records out. A small
// state machine that jumps between delimiters, quotes and line breaks with native indexOf (a
// general-purpose parser measured ~4x slower); its state survives chunk boundaries.

import { InputError, InternalError, UsageError } from '../errors.js';
import type { InputLocation } from '../errors.js';

/** How a CSV file separates fields and protects special characters. */
export interface CsvDialect {
  /** One character between fields. */
  delimiter: string;
  /** One character that wraps fields holding delimiters, quotes or line breaks; null turns quoting off. */
  quote: string | null;
}

/** One record with its fields and the 1-based physical line on which it starts. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

export interface CsvTokenizerOptions {
  /** Named in error locations (the path or `stdin`). */
  file?: string | undefined;
  /**
   * Upper bound on one record, in UTF-16 code units. It keeps an unbalanced quote from pulling the
   * rest of a large file into memory. Default 64 Mi.
   */
  maxRecordChars?: number | undefined;
}

const LF = 10;
const CR = 13;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
// After a CR terminator, a following LF belongs to the same line break.
const AFTER_CR = 3;
type State = typeof FIELD_START | typeof UNQUOTED | typeof QUOTED | typeof AFTER_CR;

export const DEFAULT_MAX_RECORD_CHARS = 64 * 1024 * 1024;

/**
 * Feed text with `push`, call `end` after the last chunk, and collect finished records with
 * `takeRecords` whenever convenient. Throws InputError `INPUT_PARSE` on malformed quoting and
 * `INPUT_RECORD_TOO_LARGE` when one record exceeds `maxRecordChars`; after an error the instance is
 * unusable.
 *
 * Rules: RFC 4180 quoting with doubled quotes; LF, CRLF and a lone CR end a record; line breaks
 * inside quotes are data; a quote inside an unquoted field is literal; lines with no characters
 * produce no record.
 */
export class CsvTokenizer {
  private readonly delimiterCode: number;
  private readonly quoteCode: number;
  private readonly delimiterChar: string;
  private readonly quoteChar: string;
  private readonly file: string | undefined;
  private readonly maxRecordChars: number;

  // Unconsumed text. Everything before `segmentStart` that still matters is already in `pending`.
  private buf = '';
  private pos = 0;
  private state: State = FIELD_START;
  private segmentStart = 0;
  // The current field's text gathered before `segmentStart` (doubled quotes, earlier chunks).
  private pending = '';
  // Fields of the record being read; reused, and copied out at exact size when the record ends.
  private readonly scratch: string[] = [];
  private count = 0;
  private records: CsvRecord[] = [];
  // Physical line at `pos`, the line where the current record began, and where an open quote began.
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  // Absolute offsets, for the record size guard.
  private bufOffset = 0;
  private recordStart = 0;
  private ended = false;

  constructor(dialect: CsvDialect, options: CsvTokenizerOptions = {}) {
    assertDialect(dialect);
    this.delimiterCode = dialect.delimiter.charCodeAt(0);
    this.delimiterChar = dialect.delimiter;
    this.quoteChar = dialect.quote ?? '';
    this.quoteCode = dialect.quote === null ? -1 : dialect.quote.charCodeAt(0);
    this.file = options.file;
    this.maxRecordChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  }

  /** Adds the next piece of text; pieces may split anything, even a CRLF pair or a doubled quote. */
  push(text: string): void {
    if (this.ended) throw new InternalError('CsvTokenizer.push called after end');
    if (text.length === 0) return;
    this.compact();
    this.buf = this.buf.length === 0 ? text : this.buf + text;
    this.parse(false);
  }

  /** Marks the end of input: completes the last record or reports an unterminated quote. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.parse(true);
    this.buf = '';
  }

  /** Returns the records completed so far and forgets them. */
  takeRecords(): CsvRecord[] {
    const out = this.records;
    if (out.length > 0) this.records = [];
    return out;
  }

  // Drops consumed text so the buffer holds at most the unscanned tail; the scanned part of an
  // unfinished field moves into `pending`, so a field spanning many chunks is never copied again.
  private compact(): void {
    if (this.state === UNQUOTED || this.state === QUOTED) {
      this.pending += this.buf.slice(this.segmentStart, this.pos);
      this.segmentStart = 0;
    }
    if (this.pos > 0) {
      this.buf = this.buf.slice(this.pos);
      this.bufOffset += this.pos;
      this.pos = 0;
    }
  }

  private parse(final: boolean): void {
    const buf = this.buf;
    const n = buf.length;
    const d = this.delimiterCode;
    const q = this.quoteCode;
    const delimiter = this.delimiterChar;
    const quote = this.quoteChar;
    const scratch = this.scratch;
    let count = this.count;
    let i = this.pos;
    let state = this.state;
    let start = this.segmentStart;
    let line = this.line;
    // Next delimiter, LF and CR at or after `i` (n when none is left). Each is searched again only
    // once passed, so the native indexOf covers the text once instead of a per-character loop.
    let nextDelim = -1;
    let nextLf = -1;
    let nextCr = -1;

    outer: for (;;) {
      if (state === AFTER_CR) {
        if (i >= n) break;
        if (buf.charCodeAt(i) === LF) i++;
        state = FIELD_START;
      }

      if (state === FIELD_START) {
        if (i >= n) {
          if (final && count > 0) {
            scratch[count++] = '';
            count = this.finishRecord(scratch, count, this.bufOffset + i);
          }
          break;
        }
        const c = buf.charCodeAt(i);
        if (count === 0) {
          if (c === LF || c === CR) {
            // A line with no characters: no record, just a line break.
            line++;
            i++;
            if (c === CR) state = AFTER_CR;
            continue;
          }
          this.recordLine = line;
          this.recordStart = this.bufOffset + i;
        }
        if (c === q) {
          state = QUOTED;
          this.quoteLine = line;
          i++;
          start = i;
        } else if (c === d) {
          scratch[count++] = '';
          i++;
          continue;
        } else if (c === LF || c === CR) {
          scratch[count++] = '';
          count = this.finishRecord(scratch, count, this.bufOffset + i);
          line++;
          i++;
          if (c === CR) state = AFTER_CR;
          continue;
        } else {
          state = UNQUOTED;
          start = i;
        }
      }

      if (state === UNQUOTED) {
        if (nextDelim < i) nextDelim = indexOrEnd(buf, delimiter, i);
        if (nextLf < i) nextLf = indexOrEnd(buf, '\n', i);
        if (nextCr < i) nextCr = indexOrEnd(buf, '\r', i);
        let end = nextDelim < nextLf ? nextDelim : nextLf;
        if (nextCr < end) end = nextCr;
        if (end === n) {
          i = n;
          if (!final) break;
          scratch[count++] = this.takeField(buf, start, n);
          count = this.finishRecord(scratch, count, this.bufOffset + n);
          state = FIELD_START;
          break;
        }
        scratch[count++] = this.takeField(buf, start, end);
        i = end + 1;
        if (end === nextDelim) {
          state = FIELD_START;
          continue;
        }
        count = this.finishRecord(scratch, count, this.bufOffset + end);
        line++;
        state = end === nextCr ? AFTER_CR : FIELD_START;
        continue;
      }

      // Quoted field: jump from quote to quote, counting the line breaks in between.
      for (;;) {
        const k = buf.indexOf(quote, i);
        // A CR ending the buffer may be the first half of a CRLF, so it waits for more text.
        const limit = k >= 0 ? k : !final && n > i && buf.charCodeAt(n - 1) === CR ? n - 1 : n;
        if (nextLf < i) nextLf = indexOrEnd(buf, '\n', i);
        while (nextLf < limit) {
          line++;
          nextLf = indexOrEnd(buf, '\n', nextLf + 1);
        }
        if (nextCr < i) nextCr = indexOrEnd(buf, '\r', i);
        while (nextCr < limit) {
          if (buf.charCodeAt(nextCr + 1) !== LF) line++;
          nextCr = indexOrEnd(buf, '\r', nextCr + 1);
        }
        if (k < 0) {
          i = limit;
          if (!final) break outer;
          throw this.unterminatedError(count + 1);
        }
        if (k + 1 >= n) {
          i = k;
          if (!final) break outer;
          scratch[count++] = this.takeField(buf, start, k);
          count = this.finishRecord(scratch, count, this.bufOffset + k);
          i = n;
          state = FIELD_START;
          break outer;
        }
        const next = buf.charCodeAt(k + 1);
        if (next === q) {
          // A doubled quote: keep the text up to and including the first one.
          this.pending += buf.slice(start, k + 1);
          i = k + 2;
          start = i;
          continue;
        }
        if (next === d) {
          scratch[count++] = this.takeField(buf, start, k);
          i = k + 2;
          state = FIELD_START;
          continue outer;
        }
        if (next === LF || next === CR) {
          scratch[count++] = this.takeField(buf, start, k);
          count = this.finishRecord(scratch, count, this.bufOffset + k);
          line++;
          i = k + 2;
          state = next === CR ? AFTER_CR : FIELD_START;
          continue outer;
        }
        throw this.afterQuoteError(buf, k + 1, line, count + 1);
      }
    }

    this.count = count;
    this.pos = i;
    this.state = state;
    this.segmentStart = start;
    this.line = line;
    if (!final && (state === UNQUOTED || state === QUOTED || count > 0)) {
      this.checkSize(this.bufOffset + i);
    }
  }

  private takeField(buf: string, start: number, end: number): string {
    if (this.pending.length === 0) return buf.slice(start, end);
    const value = this.pending + buf.slice(start, end);
    this.pending = '';
    return value;
  }

  // Hands the record over; returns the field count for the next one.
  private finishRecord(scratch: string[], count: number, endOffset: number): number {
    this.checkSize(endOffset);
    this.records.push({ fields: scratch.slice(0, count), line: this.recordLine });
    return 0;
  }

  private checkSize(endOffset: number): void {
    const size = endOffset - this.recordStart;
    if (size <= this.maxRecordChars) return;
    throw new InputError(
      'INPUT_RECORD_TOO_LARGE',
      `the record starting on this line is longer than ${this.maxRecordChars} characters`,
      {
        location: this.location(this.recordLine, undefined),
        hint: 'an unbalanced quote often causes this; check the quoting near this line or pass --quote ""',
      },
    );
  }

  private unterminatedError(column: number): InputError {
    const message = `unterminated quoted field: field ${column} opens with ${this.quoteChar} but never closes`;
    return new InputError('INPUT_PARSE', message, {
      location: this.location(this.quoteLine, column),
      hint: 'close the quote, double any quote inside the field, or pass --quote "" to turn quoting off',
    });
  }

  private afterQuoteError(buf: string, at: number, line: number, column: number): InputError {
    const code = buf.codePointAt(at) ?? 0;
    const ch = String.fromCodePoint(code);
    const shown = code < 32 ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
    return new InputError('INPUT_PARSE', `unexpected character '${shown}' after closing quote in field ${column}`, {
      location: { ...this.location(line, column), value: shown },
      hint: `a quote inside a quoted field must be doubled (${this.quoteChar}${this.quoteChar})`,
    });
  }

  private location(line: number, column: number | undefined): InputLocation {
    const loc: InputLocation = {};
    if (this.file !== undefined) loc.file = this.file;
    loc.line = line;
    if (column !== undefined) loc.column = column;
    return loc;
  }
}

function assertDialect(dialect: CsvDialect): void {
  const { delimiter, quote } = dialect;
  if (delimiter.length !== 1 || delimiter === '\n' || delimiter === '\r') {
    throw new UsageError(`invalid delimiter ${JSON.stringify(delimiter)}: use one character other than a line break`);
  }
  if (quote !== null && (quote.length !== 1 || quote === '\n' || quote === '\r')) {
    throw new UsageError(`invalid quote ${JSON.stringify(quote)}: use one character other than a line break, or none`);
  }
  if (quote === delimiter) {
    throw new UsageError(`the delimiter and the quote are both ${JSON.stringify(delimiter)}; they must differ`);
  }
}

function indexOrEnd(text: string, search: string, from: number): number {
  const at = text.indexOf(search, from);
  return at < 0 ? text.length : at;
}
