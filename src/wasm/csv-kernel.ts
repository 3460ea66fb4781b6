// AssemblyScript, compiled to dist/wasm/csv-kernel.wasm by `npm run build` (not by tsc).
//
// The inner loops of the CSV byte path, run as WebAssembly: splitting records into fields (with
// 16-byte SIMD searches), and per cell either the scan pass's classification or the upload
// pass's JSON writing. It decides only the common shapes, exactly as src/schema/byte-values.ts
// and src/sources/csv-fast.ts do; any record holding a cell it cannot decide goes back to those
// (JS_RECORD), and anything irregular ends the byte path (EXIT) for the string tokenizer to
// report. The driver in src/sources/csv-kernel.ts owns the protocol; this file only computes.
//
// No allocation: fixed regions of linear memory, laid out below, and a few globals.

// ---- memory map (byte offsets) ------------------------------------------------------------
const MAX_WIDTH: i32 = 4096;
const MODES: i32 = 1024; // u8 per column: 0 infer, 1 skip, 2 check (CELL_MODE)
const TYPES: i32 = MODES + MAX_WIDTH; // u8 per column: wire type code (TYPE_*)
const WIRE_READY: i32 = TYPES + MAX_WIDTH; // u8 per column: cells proven wire-ready by the scan
const WANTS_EXAMPLE: i32 = WIRE_READY + MAX_WIDTH; // u8 per column
const SLOW: i32 = WANTS_EXAMPLE + MAX_WIDTH; // u8 per column: a cell needed the string route
const FLAGS: i32 = SLOW + MAX_WIDTH; // u8 per field of the current record
const KINDS: i32 = FLAGS + MAX_WIDTH; // i32 per column: kinds seen in INFER columns
const FAST_KINDS: i32 = KINDS + 4 * MAX_WIDTH; // i32 per column: kinds decided here
const ACCEPT: i32 = FAST_KINDS + 4 * MAX_WIDTH; // i32 per column, CHECK columns
const REJECT: i32 = ACCEPT + 4 * MAX_WIDTH; // i32 per column, CHECK columns
const NULLS: i32 = REJECT + 4 * MAX_WIDTH; // u32 per column: null cells since the last call
const STARTS: i32 = NULLS + 4 * MAX_WIDTH; // i32 per field of the current record
const ENDS: i32 = STARTS + 4 * MAX_WIDTH; // i32 per field of the current record
const NULL_TOKENS: i32 = 196608; // i32 lengths[32], then 32 × 64 bytes
const MAX_NULL_TOKENS: i32 = 32;
const NULL_TOKEN_BYTES: i32 = 64;
const NULL_TOKEN_TEXT: i32 = NULL_TOKENS + 4 * MAX_NULL_TOKENS; // the tokens' bytes, 64 each
const NULL_FIRST_BYTES: i32 = NULL_TOKENS + 4096; // u8[256]: 1 where some token starts with it
const ROW_ENDS: i32 = 262144; // u32 per encoded row: its end offset in OUTPUT
const ROWS_CAP: i32 = 65536;
const LINES: i32 = ROW_ENDS + 4 * ROWS_CAP; // f64 per encoded row: its line
const INPUT: i32 = 1048576;
const INPUT_CAP: i32 = 8 << 20;
const OUTPUT: i32 = INPUT + INPUT_CAP + 65536; // 64 KiB gap: SIMD loads may read past the input
const OUTPUT_CAP: i32 = 8 << 20;
// The scan's undo log: (address, old value) pairs of the current record's folds, so a record
// that turns out to need JS or the slow splitter leaves the tables as they were. An address with
// the top bit set is a byte. At most three entries per column (a null count, or the slow mark,
// fast kinds and kinds): 96 KiB for MAX_WIDTH columns, ending below the 18 MiB where the build
// (--memoryBase) puts the module's own data.
const UNDO: i32 = OUTPUT + OUTPUT_CAP + 65536;
const BYTE_ENTRY: i32 = 1 << 31;
// Per column, the kinds of cell that change no table of the scan (setQuiet), i32 each; ends at
// 18,071,552, below --memoryBase.
const QUIET: i32 = UNDO + 8 * 3 * MAX_WIDTH;

/** Offsets and sizes of the regions above, by number; the driver's LAYOUT names the numbers. */
export function layout(what: i32): i32 {
  switch (what) {
    case 0: return MAX_WIDTH;
    case 1: return MODES;
    case 2: return TYPES;
    case 3: return WIRE_READY;
    case 4: return WANTS_EXAMPLE;
    case 5: return SLOW;
    case 6: return FLAGS;
    case 7: return KINDS;
    case 8: return FAST_KINDS;
    case 9: return ACCEPT;
    case 10: return REJECT;
    case 11: return NULLS;
    case 12: return STARTS;
    case 13: return ENDS;
    case 14: return NULL_TOKENS;
    case 15: return MAX_NULL_TOKENS;
    case 16: return NULL_TOKEN_BYTES;
    case 17: return ROW_ENDS;
    case 18: return ROWS_CAP;
    case 19: return LINES;
    case 20: return INPUT;
    case 21: return INPUT_CAP;
    case 22: return OUTPUT;
    case 23: return OUTPUT_CAP;
  }
  return -1;
}

// ---- what a call returns ------------------------------------------------------------------
/** Every complete record of the input is done; the unfinished rest starts at recordStart(). */
const DONE: i32 = 0;
/** The fields of the record at line recordLine() are in STARTS/ENDS/FLAGS for the JS handler. */
const JS_RECORD: i32 = 1;
/** Some INFER column saw a new kind (KINDS): the inferrer hears of it before the next call. */
const NEW_KINDS: i32 = 2;
/** The output or its row table is full; the record at the current position is not written yet. */
const OUTPUT_FULL: i32 = 3;
/** Something the byte path leaves to the string tokenizer: wrong field count, a quote problem. */
const EXIT: i32 = 4;

// ---- value kinds (VALUE_KIND in src/schema/values.ts) -------------------------------------
const INT32: i32 = 1;
const INT64: i32 = 2;
const FRACTION: i32 = 8;
const WIDE: i32 = 16;
const BOOL: i32 = 64;
const DATE: i32 = 128;
const TIME: i32 = 256;
const DATETIME: i32 = 512;
const TEXT: i32 = 1024;
const ASK: i32 = -1;
// Added to a kind: the cell is valid but not spelled in wire form (a fraction of a second with
// trailing zeros), so its column cannot be copied unchecked in the upload pass.
const NOT_WIRE_FORM: i32 = 1 << 30;
const IS_NULL: i32 = -2;
const NOTHING: i32 = 0;

const MODE_INFER: u8 = 0;
const MODE_SKIP: u8 = 1;

// Wire type codes, as src/sources/csv-kernel.ts writes them to TYPES.
const TYPE_STRING: u8 = 0;
const TYPE_INTEGER: u8 = 1;
const TYPE_BIGINTEGER: u8 = 2;
const TYPE_DOUBLE: u8 = 3;
const TYPE_BIGDECIMAL: u8 = 4;
const TYPE_BOOL: u8 = 5;
const TYPE_DATE: u8 = 6;
const TYPE_TIME: u8 = 7;
const TYPE_DATETIME: u8 = 8;

const FIELD_QUOTED: u8 = 1;
const FIELD_ESCAPED: u8 = 2;

const LF: i32 = 10;
const CR: i32 = 13;
const QUOTE_BYTE: i32 = 0x22;
const BACKSLASH: i32 = 0x5c;

// ---- settings and state -------------------------------------------------------------------
let width: i32 = 0;
let delimiter: i32 = 44;
let quote: i32 = 34; // -1: no quoting
let maxRecordBytes: i32 = INPUT_CAP;
let nullTokenCount: i32 = 0;
let maxNullBytes: i32 = -1;
let emptyIsNull: bool = false;

// The delimiter in every byte of a vector, for the searches; set by configure.
let delimiterSplat: v128 = i8x16.splat(44);
const LF_SPLAT: v128 = i8x16.splat(10);
const CR_SPLAT: v128 = i8x16.splat(13);

let inputLength: i32 = 0;
let isFinal: bool = false;
let pos: i32 = 0; // where the next record starts
let line: f64 = 1; // line of the character at pos
let skipRecords: f64 = 0;
let rows: i32 = 0; // scan: records folded since the last call; encode: rows in OUTPUT
let outLength: i32 = 0;
let needComma: bool = false;
// The record just split by nextRecord.
let recordEnd: i32 = 0; // where the record after it starts
let recordLine: f64 = 1;
let recordLinesAfter: f64 = 0; // line breaks it spans, its own included

export function configure(columns: i32, delimiterByte: i32, quoteByte: i32, maxRecord: i32, nullTokens: i32): void {
  width = columns;
  delimiter = delimiterByte;
  delimiterSplat = i8x16.splat(<i8>delimiterByte);
  quote = quoteByte;
  maxRecordBytes = maxRecord;
  nullTokenCount = nullTokens;
  emptyIsNull = false;
  maxNullBytes = -1;
  memory.fill(NULL_FIRST_BYTES, 0, 256);
  for (let t = 0; t < nullTokens; t++) {
    const n = load<i32>(NULL_TOKENS + 4 * t);
    if (n > maxNullBytes) maxNullBytes = n;
    if (n == 0) emptyIsNull = true;
    else store<u8>(NULL_FIRST_BYTES + <i32>load<u8>(NULL_TOKEN_TEXT + t * NULL_TOKEN_BYTES), 1);
  }
  pos = 0;
  line = 1;
  rows = 0;
  outLength = 0;
}

/** Records to pass over without looking at them (a header, rows already sent). */
export function skip(records: f64): void {
  skipRecords = records;
}

/** Starts a call over INPUT[0..length): the caller moved the unfinished record to the front. */
export function setInput(length: i32, final: i32): void {
  inputLength = length;
  isFinal = final != 0;
  pos = 0;
}

export function recordStart(): i32 {
  return pos;
}
export function currentLine(): f64 {
  return recordLine;
}
export function rowCount(): i32 {
  return rows;
}
export function outputLength(): i32 {
  return outLength;
}
/** The JS side took the rows folded or written so far. */
export function clearRows(): void {
  rows = 0;
  outLength = 0;
}
export function setNeedComma(value: i32): void {
  needComma = value != 0;
}

// ---- splitting records ----------------------------------------------------------------------
const NEED_MORE: i32 = 0;
const RECORD: i32 = 1;
const BAD: i32 = 2;

/**
 * The first LF, CR or byte equal to `also` (the delimiter, or the quote inside a quoted field)
 * at or after `from`, or `n` (the input length).
 */
@inline function nextBreakOr(from: i32, n: i32, also: v128): i32 {
  const end = INPUT + n;
  let at = INPUT + from;
  while (at < end) {
    const v = v128.load(at);
    const hit = v128.or(v128.or(i8x16.eq(v, also), i8x16.eq(v, LF_SPLAT)), i8x16.eq(v, CR_SPLAT));
    const mask = i8x16.bitmask(hit);
    if (mask != 0) {
      const found = at + ctz(mask) - INPUT;
      return found < n ? found : n;
    }
    at += 16;
  }
  return n;
}

@inline function byteAt(i: i32): i32 {
  return <i32>load<u8>(INPUT + i);
}

/**
 * Splits the record at pos into STARTS/ENDS/FLAGS, passing empty lines (which advance pos and
 * line for good). The same rules as CsvByteTokenizer#parse in src/sources/csv-bytes.ts.
 */
function nextRecord(): i32 {
  const n = inputLength;
  let i = pos;
  // Empty lines are no records.
  while (i < n) {
    const c = byteAt(i);
    if (c != LF && c != CR) break;
    if (c == CR && i + 1 == n && !isFinal) {
      pos = i;
      return NEED_MORE;
    }
    line += 1;
    i = c == CR && i + 1 < n && byteAt(i + 1) == LF ? i + 2 : i + 1;
  }
  pos = i;
  if (i >= n) return NEED_MORE;
  const recordBegin = i;
  const delimiters = delimiterSplat;
  const quotes = i8x16.splat(<i8>quote);
  const d = delimiter;
  const q = quote;
  const columns = width;
  let f = 0;
  let linesInside: f64 = 0;
  for (;;) {
    if (f == columns) return BAD;
    let end: i32;
    let c: i32;
    if (i < n && byteAt(i) == q) {
      const start = i + 1;
      let k = start;
      let flag = FIELD_QUOTED;
      for (;;) {
        k = nextBreakOr(k, n, quotes);
        if (k >= n) break;
        const b = byteAt(k);
        if (b == LF) {
          linesInside += 1;
          k++;
          continue;
        }
        if (b == CR) {
          if (k + 1 >= n || byteAt(k + 1) != LF) linesInside += 1;
          k++;
          continue;
        }
        // A quote: doubled means one quote inside the field.
        if (k + 1 < n && byteAt(k + 1) == q) {
          flag |= FIELD_ESCAPED;
          k += 2;
          continue;
        }
        break;
      }
      if (k >= n || (k + 1 >= n && !isFinal)) {
        if (!isFinal) return NEED_MORE;
        return BAD; // unterminated quote
      }
      store<i32>(STARTS + 4 * f, start);
      store<i32>(ENDS + 4 * f, k);
      store<u8>(FLAGS + f, flag);
      end = k + 1;
      c = end < n ? byteAt(end) : -1;
      if (c != d && c != LF && c != CR && c != -1) return BAD; // text after a closing quote
    } else {
      end = nextBreakOr(i, n, delimiters);
      if (end == n && !isFinal) return NEED_MORE;
      store<i32>(STARTS + 4 * f, i);
      store<i32>(ENDS + 4 * f, end);
      store<u8>(FLAGS + f, 0);
      c = end < n ? byteAt(end) : -1;
    }
    f++;
    if (c == d) {
      i = end + 1;
      if (i < n) continue;
      if (!isFinal) return NEED_MORE;
      // The input ends right after a delimiter: one more, empty field.
      if (f == columns) return BAD;
      store<i32>(STARTS + 4 * f, n);
      store<i32>(ENDS + 4 * f, n);
      store<u8>(FLAGS + f, 0);
      f++;
    }
    if (c == CR && end + 1 == n && !isFinal) return NEED_MORE;
    if (f != columns) return BAD;
    if (end - recordBegin > maxRecordBytes) return BAD;
    recordLine = line;
    recordLinesAfter = 1 + linesInside;
    recordEnd = c == CR && end + 1 < n && byteAt(end + 1) == LF ? end + 2 : min<i32>(end + 1, n);
    return RECORD;
  }
}

@inline function commitRecord(): void {
  pos = recordEnd;
  line = recordLine + recordLinesAfter;
}

// ---- cells ----------------------------------------------------------------------------------
@inline function isDigit(c: i32): bool {
  return <u32>(c - 48) <= 9;
}

@inline function two(i: i32): i32 {
  return (byteAt(i) - 48) * 10 + (byteAt(i + 1) - 48);
}

// Most cells are longer than any null token or start with a byte none starts with: those are
// settled here, inline; the rest compare bytes in matchesNullToken.
@inline function isNullCell(s: i32, e: i32): bool {
  const n = e - s;
  if (n > maxNullBytes) return false;
  if (n == 0) return emptyIsNull;
  return load<u8>(NULL_FIRST_BYTES + byteAt(s)) != 0 && matchesNullToken(s, n);
}

function matchesNullToken(s: i32, n: i32): bool {
  for (let t = 0; t < nullTokenCount; t++) {
    if (load<i32>(NULL_TOKENS + 4 * t) != n) continue;
    const token = NULL_TOKEN_TEXT + t * NULL_TOKEN_BYTES;
    let k = 0;
    while (k < n && load<u8>(token + k) == load<u8>(INPUT + s + k)) k++;
    if (k == n) return true;
  }
  return false;
}

function daysInMonth(year: i32, month: i32): i32 {
  if (month == 2) return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28;
  return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
}

/** YYYY-MM-DD at `s`, a real day; the shape is checked on 16 bytes at once. */
@inline function isDateAt(s: i32): bool {
  const v = v128.load(INPUT + s);
  const digits = i8x16.bitmask(i8x16.lt_u(i8x16.sub(v, i8x16.splat(48)), i8x16.splat(10)));
  const dashes = i8x16.bitmask(i8x16.eq(v, i8x16.splat(45)));
  // Digits at 0-3, 5-6 and 8-9; dashes at 4 and 7.
  if ((digits & 0x36f) != 0x36f || (dashes & 0x90) != 0x90) return false;
  const year = two(s) * 100 + two(s + 2);
  const month = two(s + 5);
  const day = two(s + 8);
  return year != 0 && month >= 1 && month <= 12 && day >= 1 && (day <= 28 || day <= daysInMonth(year, month));
}

function isTimeAt(s: i32): bool {
  if (byteAt(s + 2) != 58 || byteAt(s + 5) != 58) return false;
  if (!(isDigit(byteAt(s)) && isDigit(byteAt(s + 1)) && isDigit(byteAt(s + 3)) && isDigit(byteAt(s + 4)))) return false;
  if (!(isDigit(byteAt(s + 6)) && isDigit(byteAt(s + 7)))) return false;
  return two(s) <= 23 && two(s + 3) <= 59 && two(s + 6) <= 59;
}

function isCanonicalFraction(s: i32, e: i32): bool {
  const digits = e - s - 1;
  if (byteAt(s) != 46 || digits < 1 || digits > 9 || byteAt(e - 1) == 48) return false;
  for (let k = s + 1; k < e; k++) if (!isDigit(byteAt(k))) return false;
  return true;
}

/** The end of the significant digits of a fraction of a second at `s` (`.` and 1-9 digits up to `e`), or -1. */
@inline function fractionEnd(s: i32, e: i32): i32 {
  const digits = e - s - 1;
  if (byteAt(s) != 46 || digits < 1 || digits > 9) return -1;
  let end = s;
  for (let k = s + 1; k < e; k++) {
    const c = byteAt(k);
    if (!isDigit(c)) return -1;
    if (c != 48) end = k + 1;
  }
  return end;
}

function integerPart(s: i32, e: i32): i32 {
  let i = byteAt(s) == 45 ? s + 1 : s;
  if (i >= e) return -1;
  if (byteAt(i) == 48) return i + 1;
  while (i < e && isDigit(byteAt(i))) i++;
  return i;
}

// What parseClock found: the end of the significant part of the clock (after the seconds, or
// after the last non-zero digit of the fraction, or after the minutes when there are no seconds),
// and whether the text is already in wire form (seconds present, no trailing zeros).
let clockEnd: i32 = 0;
let clockHasSeconds: bool = false;
let clockIsCanonical: bool = false;

/**
 * HH:MM[:SS[.f{1,9}]] from `s` exactly up to `e`, as parseTime in src/schema/values.ts reads
 * it (no zone). False when it is anything else.
 */
@inline function parseClock(s: i32, e: i32): bool {
  const n = e - s;
  if (n < 5 || byteAt(s + 2) != 58) return false;
  if (!(isDigit(byteAt(s)) && isDigit(byteAt(s + 1)) && isDigit(byteAt(s + 3)) && isDigit(byteAt(s + 4)))) return false;
  if (two(s) > 23 || two(s + 3) > 59) return false;
  if (n == 5) {
    clockEnd = e;
    clockHasSeconds = false;
    clockIsCanonical = false;
    return true;
  }
  if (n < 8 || byteAt(s + 5) != 58 || !isDigit(byteAt(s + 6)) || !isDigit(byteAt(s + 7)) || two(s + 6) > 59) return false;
  clockHasSeconds = true;
  if (n == 8) {
    clockEnd = e;
    clockIsCanonical = true;
    return true;
  }
  const end = fractionEnd(s + 8, e);
  if (end < 0) return false;
  clockEnd = end;
  clockIsCanonical = end == e;
  return true;
}

/** YYYY-MM-DD, then T, t or a space, then a clock, exactly up to `e` (no zone). */
@inline function isDateTimeAt(s: i32, e: i32): bool {
  if (e - s < 16 || !isDateAt(s)) return false;
  const separator = byteAt(s + 10);
  return (separator == 84 || separator == 116 || separator == 32) && parseClock(s + 11, e);
}

/**
 * classify's answer for a cell of `n` bytes at `s` that starts with a digit or a minus sign and is
 * no date or time: INT32, INT64 (with WIDE), FRACTION or ASK. Read 16 bytes at once: masks of
 * digit and dot positions replace the byte loops. A cell it gives a kind holds digits, a leading
 * minus and at most one dot, nothing else: none of classify's date and time shapes.
 */
@inline function numberKind(s: i32, n: i32): i32 {
  if (n == 0 || n > 16) return ASK; // 16 bytes hold every number this function decides
  const v = v128.load(INPUT + s);
  const inCell = (1 << n) - 1;
  const digits = i8x16.bitmask(i8x16.lt_u(i8x16.sub(v, i8x16.splat(48)), i8x16.splat(10))) & inCell;
  const start = byteAt(s) == 45 ? 1 : 0;
  const body = inCell & ~start; // every position after the sign
  if (body == 0) return ASK; // "-" alone
  // A leading zero must be the whole integer part.
  const leadingZero = byteAt(s + start) == 48;
  if (digits == body) {
    const count = n - start;
    if (leadingZero && count > 1) return ASK;
    return count <= 9 ? INT32 : integerRange(s + start, count, start == 1);
  }
  const dots = i8x16.bitmask(i8x16.eq(v, i8x16.splat(46))) & inCell;
  if (popcnt(dots) != 1 || (digits | dots) != body) return ASK;
  const dot = ctz(dots);
  const intDigits = dot - start;
  const fracDigits = n - dot - 1;
  if (intDigits == 0 || fracDigits == 0 || (leadingZero && intDigits > 1)) return ASK;
  return intDigits + fracDigits <= 15 ? FRACTION : ASK;
}

/**
 * classifyBytes of src/schema/byte-values.ts, with the same answers. Inlined into the scan's
 * loops: a call per cell cost about a tenth of the scan.
 */
@inline function classify(s: i32, e: i32): i32 {
  const n = e - s;
  if (n == 0) return ASK;
  const c0 = byteAt(s);
  if (c0 == 45 || isDigit(c0)) {
    if (n == 10 && byteAt(s + 4) == 45) return isDateAt(s) ? DATE : ASK;
    if (n >= 16 && byteAt(s + 4) == 45) {
      if (!isDateTimeAt(s, e)) return ASK;
      return clockIsCanonical && byteAt(s + 10) == 84 ? DATETIME : DATETIME | NOT_WIRE_FORM;
    }
    if (c0 != 45 && n >= 5 && byteAt(s + 2) == 58) {
      if (!parseClock(s, e)) return ASK;
      return clockIsCanonical ? TIME : TIME | NOT_WIRE_FORM;
    }
    return numberKind(s, n);
  }
  const bool = boolAt(s, n);
  if (bool < 0) return ASK;
  return bool == 1 ? BOOL : BOOL | NOT_WIRE_FORM;
}

/**
 * true/false in any letter case, as classifyValue reads them: 1 for the lowercase spelling (the
 * wire form), 2 for another case, -1 for anything else.
 */
@inline function boolAt(s: i32, n: i32): i32 {
  let lower = true;
  if (n == 4) {
    if ((byteAt(s) | 32) != 116 || (byteAt(s + 1) | 32) != 114 || (byteAt(s + 2) | 32) != 117 || (byteAt(s + 3) | 32) != 101) return -1;
    for (let k = 0; k < 4; k++) lower = lower && byteAt(s + k) >= 97;
    return lower ? 1 : 2;
  }
  if (n == 5) {
    if ((byteAt(s) | 32) != 102 || (byteAt(s + 1) | 32) != 97 || (byteAt(s + 2) | 32) != 108 || (byteAt(s + 3) | 32) != 115 || (byteAt(s + 4) | 32) != 101) return -1;
    for (let k = 0; k < 5; k++) lower = lower && byteAt(s + k) >= 97;
    return lower ? 1 : 2;
  }
  return -1;
}

/**
 * The kind of an integer of 10 to 16 digits (no sign, no leading zero) at `s`, as classifyInteger
 * in src/schema/values.ts gives it: INT32 or INT64, with WIDE past 15 significant digits.
 */
function integerRange(s: i32, count: i32, negative: bool): i32 {
  if (count == 10) {
    let value: u64 = 0;
    for (let k = 0; k < 10; k++) value = value * 10 + <u64>(byteAt(s + k) - 48);
    return value <= (negative ? <u64>2147483648 : <u64>2147483647) ? INT32 : INT64;
  }
  if (count <= 15) return INT64;
  let last = s + count - 1;
  while (byteAt(last) == 48) last--;
  return last - s + 1 > 15 ? INT64 | WIDE : INT64;
}

/** isWireReady of src/schema/byte-values.ts, for the types other than STRING. */
function isWireReady(type: u8, s: i32, e: i32): bool {
  const n = e - s;
  if (type >= TYPE_INTEGER && type <= TYPE_BIGDECIMAL) {
    if (n == 0) return false;
    const intEnd = integerPart(s, e);
    if (intEnd < 0) return false;
    const intDigits = intEnd - (byteAt(s) == 45 ? s + 1 : s);
    if (intDigits == 0) return false;
    if (intEnd == e) {
      if (type == TYPE_INTEGER) return intDigits <= 9;
      if (type == TYPE_BIGINTEGER) return intDigits <= 18;
      return type == TYPE_BIGDECIMAL || intDigits <= 15;
    }
    if (type == TYPE_INTEGER || type == TYPE_BIGINTEGER) return false;
    if (byteAt(intEnd) != 46 || intEnd + 1 == e) return false;
    for (let k = intEnd + 1; k < e; k++) if (!isDigit(byteAt(k))) return false;
    return type == TYPE_BIGDECIMAL || intDigits + (e - intEnd - 1) <= 15;
  }
  if (type == TYPE_BOOL) {
    return (
      (n == 4 && byteAt(s) == 116 && byteAt(s + 1) == 114 && byteAt(s + 2) == 117 && byteAt(s + 3) == 101) ||
      (n == 5 && byteAt(s) == 102 && byteAt(s + 1) == 97 && byteAt(s + 2) == 108 && byteAt(s + 3) == 115 && byteAt(s + 4) == 101)
    );
  }
  if (type == TYPE_DATE) return n == 10 && isDateAt(s);
  if (type == TYPE_TIME) return n >= 8 && (n == 8 || isCanonicalFraction(s + 8, e)) && isTimeAt(s);
  if (type == TYPE_DATETIME) return n >= 19 && byteAt(s + 10) == 84 && isDateAt(s) && isTimeAt(s + 11) && (n == 19 || isCanonicalFraction(s + 19, e));
  return false;
}

/**
 * Splits the next record that is not to be skipped (passing over those that are): RECORD, or
 * what scan and encode return when there is none (DONE at the end of the input, EXIT).
 */
function nextWantedRecord(): i32 {
  while (true) {
    const status = nextRecord();
    if (status == NEED_MORE) return DONE;
    if (status == BAD) return EXIT;
    if (skipRecords <= 0) return RECORD;
    skipRecords -= 1;
    commitRecord();
  }
}

// ---- the scan pass ------------------------------------------------------------------------

let undoCount: i32 = 0;

@inline function logged(address: i32, old: i32): void {
  const entry = UNDO + 8 * undoCount;
  store<i32>(entry, address);
  store<i32>(entry + 4, old);
  undoCount++;
}

@inline function setLogged(address: i32, value: i32): void {
  logged(address, load<i32>(address));
  store<i32>(address, value);
}

@inline function markSlow(c: i32): void {
  if (load<u8>(SLOW + c) == 0) {
    logged(BYTE_ENTRY | (SLOW + c), 0);
    store<u8>(SLOW + c, 1);
  }
}

/** Takes back the folds of the record being scanned. */
function undoFolds(): void {
  while (undoCount > 0) {
    undoCount--;
    const entry = UNDO + 8 * undoCount;
    const address = load<i32>(entry);
    if ((address & BYTE_ENTRY) != 0) store<u8>(address & ~BYTE_ENTRY, <u8>load<i32>(entry + 4));
    else store<i32>(address, load<i32>(entry + 4));
  }
}

/**
 * What the scan makes of the cell [s, e) of column c: IS_NULL, NOTHING (a column not looked at),
 * TEXT (a cell holding an escaped quote), a kind (plus NOT_WIRE_FORM), or ASK: the record goes
 * to JS.
 */
@inline function scanVerdict(c: i32, s: i32, e: i32, flag: u8): i32 {
  const mode = load<u8>(MODES + c);
  if ((flag & FIELD_ESCAPED) != 0) {
    // Text holding a quote: never a null token (the driver checks) nor any other kind. In a
    // CHECK column, JS decides and words the error.
    if (load<u8>(WANTS_EXAMPLE + c) != 0) return ASK;
    if (mode == MODE_SKIP) return NOTHING;
    return mode == MODE_INFER ? TEXT : ASK;
  }
  if (isNullCell(s, e)) return IS_NULL;
  if (load<u8>(WANTS_EXAMPLE + c) != 0) return ASK;
  if (mode == MODE_SKIP) return NOTHING;
  const verdict = classify(s, e);
  if (verdict == ASK) return ASK;
  const kind = verdict & ~NOT_WIRE_FORM;
  if (mode != MODE_INFER && ((kind & load<i32>(ACCEPT + 4 * c)) == 0 || (kind & load<i32>(REJECT + 4 * c)) != 0)) return ASK;
  return verdict;
}

/** Folds a verdict other than ASK into the column tables, logged; true when KINDS grew. */
@inline function foldVerdict(c: i32, verdict: i32, flag: u8): bool {
  if (verdict == IS_NULL) {
    setLogged(NULLS + 4 * c, load<i32>(NULLS + 4 * c) + 1);
    return false;
  }
  if (verdict == NOTHING) {
    if ((flag & FIELD_ESCAPED) != 0) markSlow(c);
    return false;
  }
  if (verdict == TEXT) {
    // An escaped cell: the string route in JS terms.
    markSlow(c);
    const before = load<i32>(KINDS + 4 * c);
    if ((before | TEXT) == before) return false;
    setLogged(KINDS + 4 * c, before | TEXT);
    return true;
  }
  let kind = verdict;
  if ((kind & NOT_WIRE_FORM) != 0) {
    // As in JS, where such a cell takes the string route: counted as a slow cell.
    markSlow(c);
    kind &= ~NOT_WIRE_FORM;
  }
  const fast = load<i32>(FAST_KINDS + 4 * c);
  if ((fast | kind) != fast) setLogged(FAST_KINDS + 4 * c, fast | kind);
  if (load<u8>(MODES + c) != MODE_INFER) return false;
  const before = load<i32>(KINDS + 4 * c);
  if ((before | kind) == before) return false;
  setLogged(KINDS + 4 * c, before | kind);
  return true;
}

const NUMBER_KINDS: i32 = INT32 | FRACTION;

/**
 * Per INFER column, the kinds in wire form that its cells have already shown both to the
 * inferrer (KINDS) and to the upload plan (FAST_KINDS): another such cell changes no table, so
 * the scan only has to recognise it (quietKind), without classify's other tests and without a
 * fold. Most cells of a file are such cells. Set at every call; the tables only grow during one,
 * so the sets stay true.
 */
function setQuiet(): void {
  for (let c = 0; c < width; c++) {
    let quiet = 0;
    if (load<u8>(MODES + c) == MODE_INFER && load<u8>(WANTS_EXAMPLE + c) == 0) {
      quiet = load<i32>(KINDS + 4 * c) & load<i32>(FAST_KINDS + 4 * c) & (NUMBER_KINDS | DATE | DATETIME | BOOL);
    }
    store<i32>(QUIET + 4 * c, quiet);
  }
}

/**
 * The kind classify gives the cell [s, e) (not null, no escaped quote) when it is one of `quiet`, in
 * wire form; otherwise ASK or a kind outside `quiet`, and the scan classifies the cell in full.
 * Each test takes only cells classify gives the same kind.
 */
@inline function quietKind(quiet: i32, s: i32, e: i32): i32 {
  const n = e - s;
  if ((quiet & NUMBER_KINDS) != 0) {
    const kind = numberKind(s, n);
    if (kind != ASK) return kind;
  }
  if ((quiet & DATE) != 0 && n == 10 && isDateAt(s)) return DATE;
  if ((quiet & DATETIME) != 0 && n >= 16 && byteAt(s + 4) == 45 && isDateTimeAt(s, e)) return clockIsCanonical && byteAt(s + 10) == 84 ? DATETIME : ASK;
  if ((quiet & BOOL) != 0 && boolAt(s, n) == 1) return BOOL;
  return ASK;
}

// What fastRecord did with the record at pos.
const FAST_NONE: i32 = 0; // nothing: the slow path takes the record (folds undone, output untouched)
const FAST_DONE: i32 = 1; // split and scanned or written; pos is past it
const FAST_NEW_KINDS: i32 = 2; // FAST_DONE, and KINDS grew
const FAST_JS: i32 = 3; // FAST_NONE, and the reason is a cell JS must see: the per-field loops would stop at it too

/**
 * The common record, split and handled field by field in one go: the scan folds each cell,
 * the upload pass writes it (`encoding`). Only a record of single-line fields wholly inside the
 * input is taken, whose every cell the kernel decides; for anything else (empty lines, line
 * breaks inside quotes, the input ending, a wrong field count, a full output) it returns
 * FAST_NONE having changed nothing, and nextRecord with the per-field loops of scan() and
 * encode() decide, as for every record before; for a cell JS must see, FAST_JS, and the record
 * only needs splitting for JS. Splitting and acting at once saves storing each field's bounds
 * and reading them back.
 */
@inline function fastRecord(encoding: bool): i32 {
  const n = inputLength;
  let i = pos;
  if (skipRecords > 0 || i >= n) return FAST_NONE;
  const first = byteAt(i);
  if (first == LF || first == CR) return FAST_NONE;
  const recordBegin = i;
  const d = delimiter;
  const q = quote;
  const quotes = i8x16.splat(<i8>q);
  const columns = width;
  let o = outLength;
  if (encoding) {
    if (rows == ROWS_CAP) return FAST_NONE;
    if (needComma) put(o++, 0x2c);
    put(o++, 0x5b);
  } else {
    undoCount = 0;
  }
  let newKinds = false;
  let outcome = FAST_NONE;
  let at = i;
  for (let c = 0; c < columns; c++) {
    let s: i32;
    let e: i32;
    let flag: u8 = 0;
    if (i < n && byteAt(i) == q) {
      // A quoted field on one line: its closing quote, passing doubled ones.
      let k = i + 1;
      flag = FIELD_QUOTED;
      for (;;) {
        k = nextBreakOr(k, n, quotes);
        if (k >= n || byteAt(k) != q) break;
        if (k + 1 < n && byteAt(k + 1) == q) {
          flag |= FIELD_ESCAPED;
          k += 2;
          continue;
        }
        break;
      }
      if (k >= n || byteAt(k) != q) break;
      s = i + 1;
      e = k;
      at = k + 1;
    } else {
      s = i;
      at = nextBreakOr(i, n, delimiterSplat);
      e = at;
    }
    if (at >= n) break;
    const b = byteAt(at);
    if (c + 1 < columns ? b != d : b != LF && (b != CR || at + 1 >= n)) break;
    if (encoding) {
      if (c != 0) put(o++, 0x2c);
      // Worst case: every byte escaped as \u00XX, plus quotes, the comma and the closing bracket.
      if (o + 6 * (e - s) + 8 > OUTPUT_CAP) break;
      o = writeCell(o, c, s, e, flag);
      if (o < 0) {
        outcome = FAST_JS;
        break;
      }
    } else {
      const quiet = load<i32>(QUIET + 4 * c);
      const kind = quiet != 0 && (flag & FIELD_ESCAPED) == 0 && !isNullCell(s, e) ? quietKind(quiet, s, e) : ASK;
      if (kind == ASK || (kind & ~quiet) != 0) {
        const verdict = scanVerdict(c, s, e, flag);
        if (verdict == ASK) {
          outcome = FAST_JS;
          break;
        }
        if (foldVerdict(c, verdict, flag)) newKinds = true;
      }
    }
    i = at + 1;
    if (c + 1 == columns) {
      if (at - recordBegin > maxRecordBytes) break;
      recordLine = line;
      line += 1;
      pos = byteAt(at) == CR && byteAt(at + 1) == LF ? at + 2 : at + 1;
      if (encoding) {
        put(o++, 0x5d);
        store<u32>(ROW_ENDS + 4 * rows, o);
        store<f64>(LINES + 8 * rows, recordLine);
        outLength = o;
        needComma = true;
      }
      rows++;
      return newKinds ? FAST_NEW_KINDS : FAST_DONE;
    }
  }
  if (!encoding) undoFolds();
  return outcome;
}

/**
 * Folds records into the column tables until the input runs out or a record needs JS. A record
 * is folded whole or not at all, so the counts always stop at a record boundary.
 */
export function scan(): i32 {
  setQuiet();
  while (true) {
    const fast = fastRecord(false);
    if (fast == FAST_NEW_KINDS) return NEW_KINDS;
    if (fast == FAST_DONE) continue;
    const next = nextWantedRecord();
    if (next != RECORD) return next;
    commitRecord();
    if (fast == FAST_JS) return JS_RECORD;
    undoCount = 0;
    let newKinds = false;
    for (let c = 0; c < width; c++) {
      const flag = load<u8>(FLAGS + c);
      const verdict = scanVerdict(c, load<i32>(STARTS + 4 * c), load<i32>(ENDS + 4 * c), flag);
      if (verdict == ASK) {
        undoFolds();
        return JS_RECORD;
      }
      if (foldVerdict(c, verdict, flag)) newKinds = true;
    }
    rows++;
    if (newKinds) return NEW_KINDS;
  }
}

// ---- the upload pass ----------------------------------------------------------------------

@inline function put(o: i32, b: i32): void {
  store<u8>(OUTPUT + o, <u8>b);
}

/** The length of the valid UTF-8 sequence at `p` (before `e`), or 0 if it is not one. */
function utf8Length(p: i32, e: i32): i32 {
  const b0 = byteAt(p);
  if (b0 >= 0xc2 && b0 <= 0xdf) return p + 1 < e && (byteAt(p + 1) & 0xc0) == 0x80 ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (p + 2 >= e) return 0;
    const b1 = byteAt(p + 1);
    if ((b1 & 0xc0) != 0x80 || (byteAt(p + 2) & 0xc0) != 0x80) return 0;
    if (b0 == 0xe0 && b1 < 0xa0) return 0; // overlong
    if (b0 == 0xed && b1 > 0x9f) return 0; // surrogate
    return 3;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (p + 3 >= e) return 0;
    const b1 = byteAt(p + 1);
    if ((b1 & 0xc0) != 0x80 || (byteAt(p + 2) & 0xc0) != 0x80 || (byteAt(p + 3) & 0xc0) != 0x80) return 0;
    if (b0 == 0xf0 && b1 < 0x90) return 0; // overlong
    if (b0 == 0xf4 && b1 > 0x8f) return 0; // beyond U+10FFFF
    return 4;
  }
  return 0;
}

/**
 * A JSON string of the cell's bytes, escaped as JSON.stringify escapes them; with `unquote`,
 * each doubled quote stands for one. Returns the output end, or -1 for invalid UTF-8.
 */
function writeJsonString(o: i32, s: i32, e: i32, unquote: i32): i32 {
  put(o++, QUOTE_BYTE);
  const space = i8x16.splat(0x20);
  const quoteMark = i8x16.splat(<i8>QUOTE_BYTE);
  const backslash = i8x16.splat(<i8>BACKSLASH);
  const doubled = i8x16.splat(<i8>unquote);
  const zero = i8x16.splat(0);
  let p = s;
  while (p < e) {
    // 16 bytes at a time up to the first one that needs care: a control character, a quote, a
    // backslash, the CSV quote, or a byte of a multi-byte character. Bytes stored past it are
    // overwritten by what comes next.
    const v = v128.load(INPUT + p);
    const special = v128.or(
      v128.or(i8x16.lt_u(v, space), i8x16.eq(v, quoteMark)),
      v128.or(v128.or(i8x16.eq(v, backslash), i8x16.eq(v, doubled)), i8x16.lt_s(v, zero)),
    );
    const left = e - p;
    const mask = i8x16.bitmask(special) | (left < 16 ? 1 << left : 0x10000);
    v128.store(OUTPUT + o, v);
    const run = ctz(mask);
    o += run;
    p += run;
    if (p >= e || run == 16) continue;
    const b = byteAt(p);
    if (b >= 0x80) {
      const n = utf8Length(p, e);
      if (n == 0) return -1;
      for (let k = 0; k < n; k++) put(o + k, byteAt(p + k));
      o += n;
      p += n;
      continue;
    }
    if (b >= 0x20 && b != QUOTE_BYTE && b != BACKSLASH) {
      // The CSV quote when it is not `"`: one of a doubled pair.
      put(o++, b);
      p += 2;
      continue;
    }
    put(o++, BACKSLASH);
    if (b == QUOTE_BYTE || b == BACKSLASH) {
      put(o++, b);
      p += b == unquote ? 2 : 1;
      continue;
    }
    p++;
    if (b == 8) put(o++, 0x62);
    else if (b == 9) put(o++, 0x74);
    else if (b == 10) put(o++, 0x6e);
    else if (b == 12) put(o++, 0x66);
    else if (b == 13) put(o++, 0x72);
    else {
      put(o++, 0x75);
      put(o++, 0x30);
      put(o++, 0x30);
      put(o++, hexDigit(b >> 4));
      put(o++, hexDigit(b & 15));
    }
  }
  put(o++, QUOTE_BYTE);
  return o;
}

/** Copies a short run of input bytes, 16 at a time: memory.copy costs a call per cell. */
@inline function copyCell(o: i32, s: i32, n: i32): void {
  for (let k = 0; k < n; k += 16) v128.store(OUTPUT + o + k, v128.load(INPUT + s + k));
}

@inline function hexDigit(v: i32): i32 {
  return v < 10 ? 48 + v : 87 + v;
}

/**
 * The wire form of a cell that normalizeValue would rewrite without changing its value: a BOOL in
 * another letter case, a TIME without seconds or with trailing zeros, a DATETIME with a space or
 * `t` for `T`, without seconds, with trailing zeros, or a plain date (midnight). Returns the
 * output end, or -1 for every other cell (JS decides those, and words any error).
 */
function writeNormalized(o: i32, type: u8, s: i32, e: i32): i32 {
  const n = e - s;
  if (type == TYPE_BOOL) {
    const bool = boolAt(s, n);
    if (bool < 0) return -1;
    const text: u64 = n == 4 ? 0x65757274 : 0x65736c6166; // "true", "false", little-endian
    store<u64>(OUTPUT + o, text);
    return o + n;
  }
  if (type == TYPE_TIME) {
    if (!parseClock(s, e)) return -1;
    put(o++, QUOTE_BYTE);
    o = writeClock(o, s);
    put(o++, QUOTE_BYTE);
    return o;
  }
  if (type == TYPE_DATETIME) {
    const dateOnly = n == 10 && isDateAt(s);
    if (!dateOnly && !isDateTimeAt(s, e)) return -1;
    put(o++, QUOTE_BYTE);
    copyCell(o, s, 10);
    o += 10;
    put(o++, 84);
    if (dateOnly) {
      // "00:00:00", little-endian
      store<u64>(OUTPUT + o, 0x30303a30303a3030);
      o += 8;
    } else {
      o = writeClock(o, s + 11);
    }
    put(o++, QUOTE_BYTE);
    return o;
  }
  return -1;
}

/** HH:MM:SS plus the fraction's significant digits, of the clock parseClock just read at `s`. */
function writeClock(o: i32, s: i32): i32 {
  copyCell(o, s, 5);
  o += 5;
  if (!clockHasSeconds) {
    put(o, 58);
    put(o + 1, 48);
    put(o + 2, 48);
    return o + 3;
  }
  const rest = clockEnd - (s + 5);
  copyCell(o, s + 5, rest);
  return o + rest;
}

/**
 * Writes the cell [s, e) of column c as JSON at `o`; returns the output end, or -1 when JS must
 * write the record (a cell not valid for its type as far as the kernel can tell, invalid UTF-8).
 */
@inline function writeCell(o: i32, c: i32, s: i32, e: i32, flag: u8): i32 {
  const type = load<u8>(TYPES + c);
  if ((flag & FIELD_ESCAPED) != 0) return type == TYPE_STRING ? writeJsonString(o, s, e, quote) : -1;
  if (isNullCell(s, e)) {
    store<u32>(OUTPUT + o, 0x6c6c756e); // "null", little-endian
    return o + 4;
  }
  if (type == TYPE_STRING) return writeJsonString(o, s, e, -1);
  if (load<u8>(WIRE_READY + c) != 0 || isWireReady(type, s, e)) {
    const quoted = type >= TYPE_DATE;
    if (quoted) put(o++, QUOTE_BYTE);
    copyCell(o, s, e - s);
    o += e - s;
    if (quoted) put(o++, QUOTE_BYTE);
    return o;
  }
  // Valid in another spelling: written in wire form, as normalizeValue writes it.
  return writeNormalized(o, type, s, e);
}

/**
 * Writes records as JSON row arrays to OUTPUT (a comma before each but the batch's first),
 * noting each row's end and line, until the input runs out, the output is full, or a record
 * needs JS. A record is written whole or not at all.
 */
export function encode(): i32 {
  while (true) {
    const fast = fastRecord(true);
    if (fast == FAST_DONE) continue;
    const next = nextWantedRecord();
    if (next != RECORD) return next;
    // Worst case: every byte escaped as \u00XX, plus brackets, commas and nulls.
    const worst = 6 * (recordEnd - pos) + 8 * width + 4;
    if (rows == ROWS_CAP || outLength + worst > OUTPUT_CAP) {
      if (rows == 0) return EXIT; // one record larger than the whole output
      return OUTPUT_FULL;
    }
    if (fast == FAST_JS) {
      commitRecord();
      return JS_RECORD;
    }
    let o = outLength;
    if (needComma) put(o++, 0x2c);
    put(o++, 0x5b);
    let needsJs = false;
    for (let c = 0; c < width; c++) {
      if (c != 0) put(o++, 0x2c);
      o = writeCell(o, c, load<i32>(STARTS + 4 * c), load<i32>(ENDS + 4 * c), load<u8>(FLAGS + c));
      if (o < 0) {
        needsJs = true;
        break;
      }
    }
    commitRecord();
    if (needsJs) return JS_RECORD;
    put(o++, 0x5d);
    store<u32>(ROW_ENDS + 4 * rows, o);
    store<f64>(LINES + 8 * rows, recordLine);
    rows++;
    outLength = o;
    needComma = true;
  }
}
