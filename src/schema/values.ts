// What a single cell's text can be, and its wire form. Inference, overrides and the serializer all
// go through these functions so that "valid value of type T" means exactly one thing everywhere.
// Hot path: every cell of every file passes through classifyValue, so it scans with charCodeAt.

import type { WireType } from './types.js';

const INT32 = 1;
const INT64 = 2;
const INT_BIG = 4;
const FRACTION = 8;
const WIDE = 16;
const HUGE = 32;
const BOOL = 64;
const DATE = 128;
const TIME = 256;
const DATETIME = 512;
const TEXT = 1024;
const NUMBER = INT32 | INT64 | INT_BIG | FRACTION | WIDE | HUGE;

/**
 * Bit flags for what a cell's text is. A number carries one integer-range flag (or FRACTION)
 * plus WIDE and HUGE when they apply; a column's kinds are the bitwise OR over its cells.
 */
export const VALUE_KIND = {
  /** Integer without fraction or exponent, within int32. */
  INT32,
  /** Integer within int64 but not int32. */
  INT64,
  /** Integer beyond int64. */
  INT_BIG,
  /** Number with a fraction or an exponent. */
  FRACTION,
  /** Number with more than 15 significant digits: a double would lose some. */
  WIDE,
  /** Number whose magnitude is outside the normal double range (about 1e-307 to 1e307). */
  HUGE,
  BOOL,
  DATE,
  TIME,
  DATETIME,
  /** Anything else. */
  TEXT,
} as const;

/** The null tokens used when the user configures none. Matched exactly, case-sensitive. */
export const DEFAULT_NULL_TOKENS: readonly string[] = ['', 'NULL', 'null', 'NA', 'N/A', '#N/A'];

/** Returns a test for "this text is a null token". Hot path: a length lookup rejects most cells. */
export function createNullTokenTest(tokens: readonly string[] = DEFAULT_NULL_TOKENS): (text: string) => boolean {
  // Tokens bucketed by length: comparing a fresh cell with === is cheaper than hashing it for a Set.
  const byLength: (string[] | undefined)[] = [];
  for (const token of tokens) (byLength[token.length] ??= []).push(token);
  const maxLength = byLength.length - 1;
  return (text) => {
    if (text.length > maxLength) return false;
    const bucket = byLength[text.length];
    if (bucket === undefined) return false;
    for (let i = 0; i < bucket.length; i++) if (bucket[i] === text) return true;
    return false;
  };
}

// Scratch results of the last temporal parse. Module state instead of a result object keeps the
// per-cell path free of allocation; every reader runs right after the parse that filled them.
let pYear = 0;
let pMonth = 0;
let pDay = 0;
let pHour = 0;
let pMinute = 0;
let pSecond = 0;
let pFracStart = 0;
let pFracEnd = 0;
let pTimeIsCanonical = false;
let pTimeEnd = 0;
let pHasZone = false;
let pOffset = 0;

/** What kind of value `text` is (one or more VALUE_KIND flags). Null tokens are the caller's business. */
export function classifyValue(text: string): number {
  const n = text.length;
  if (n === 0) return TEXT;
  const c0 = text.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    if (text.charCodeAt(4) === 45) {
      const kind = classifyDateOrDateTime(text);
      if (kind !== 0) return kind;
    } else if (text.charCodeAt(2) === 58) {
      return parseTime(text, 0) === n ? TIME : TEXT;
    }
    return classifyNumber(text);
  }
  if (c0 === 45) return classifyNumber(text);
  if (n === 4) {
    return (c0 | 32) === 116 &&
      (text.charCodeAt(1) | 32) === 114 &&
      (text.charCodeAt(2) | 32) === 117 &&
      (text.charCodeAt(3) | 32) === 101
      ? BOOL
      : TEXT;
  }
  if (n === 5) {
    return (c0 | 32) === 102 &&
      (text.charCodeAt(1) | 32) === 97 &&
      (text.charCodeAt(2) | 32) === 108 &&
      (text.charCodeAt(3) | 32) === 115 &&
      (text.charCodeAt(4) | 32) === 101
      ? BOOL
      : TEXT;
  }
  return TEXT;
}

const INT32_MAX = '2147483647';
const INT32_MIN_ABS = '2147483648';
const INT64_MAX = '9223372036854775807';
const INT64_MIN_ABS = '9223372036854775808';

/**
 * JSON number grammar only, so the source text can go on the wire unchanged. Range and
 * precision come from digit positions, never from Number(), which would round long inputs.
 */
function classifyNumber(s: string): number {
  const n = s.length;
  const start = s.charCodeAt(0) === 45 ? 1 : 0;
  let i = start;
  let c = s.charCodeAt(i);
  if (c === 48) {
    c = s.charCodeAt(++i);
  } else if (c >= 49 && c <= 57) {
    do c = s.charCodeAt(++i);
    while (c >= 48 && c <= 57);
  } else {
    return TEXT;
  }
  const intEnd = i;
  // Most numbers are plain integers: decide those without the bookkeeping below.
  if (i === n) return classifyInteger(s, start, intEnd - start);
  let fracStart = -1;
  let fracEnd = -1;
  if (c === 46) {
    fracStart = ++i;
    c = s.charCodeAt(i);
    while (c >= 48 && c <= 57) c = s.charCodeAt(++i);
    if (i === fracStart) return TEXT;
    fracEnd = i;
  }
  let exponent = 0;
  if (c === 101 || c === 69) {
    c = s.charCodeAt(++i);
    const expNegative = c === 45;
    if (c === 43 || c === 45) c = s.charCodeAt(++i);
    const expStart = i;
    while (c >= 48 && c <= 57) {
      // Capped: anything this large is far outside every range compared against below.
      if (exponent < 1e8) exponent = exponent * 10 + (c - 48);
      c = s.charCodeAt(++i);
    }
    if (i === expStart) return TEXT;
    if (expNegative) exponent = -exponent;
  }
  // Also where a leading zero followed by more digits ("00123") ends up, unconsumed.
  if (i !== n) return TEXT;

  // Significant digits run from the first to the last non-zero digit, skipping the point.
  let first = -1;
  let leadingExponent = 0;
  if (s.charCodeAt(start) !== 48) {
    first = start;
    leadingExponent = intEnd - start - 1;
  } else {
    for (let k = fracStart; k >= 0 && k < fracEnd; k++) {
      if (s.charCodeAt(k) !== 48) {
        first = k;
        leadingExponent = fracStart - 1 - k;
        break;
      }
    }
  }
  if (first < 0) return FRACTION;
  let last = -1;
  for (let k = fracEnd - 1; k >= fracStart && fracStart >= 0; k--) {
    if (s.charCodeAt(k) !== 48) {
      last = k;
      break;
    }
  }
  let significant: number;
  if (last >= 0) {
    significant = last - first + (first < intEnd ? 0 : 1);
  } else {
    last = intEnd - 1;
    while (s.charCodeAt(last) === 48) last--;
    significant = last - first + 1;
  }
  let kind = FRACTION;
  // Up to 15 significant decimal digits always survive a round trip through a double.
  if (significant > 15) kind |= WIDE;
  leadingExponent += exponent;
  if (leadingExponent > 307 || leadingExponent < -307) kind |= HUGE;
  return kind;
}

/** An integer without leading zeros: `digits` digits from `start`. */
function classifyInteger(s: string, start: number, digits: number): number {
  if (digits < 10) return INT32;
  const negative = start === 1;
  if (digits === 10) return compareDigits(s, start, negative ? INT32_MIN_ABS : INT32_MAX) <= 0 ? INT32 : INT64;
  let kind = 0;
  if (digits > 15) {
    let last = start + digits - 1;
    while (s.charCodeAt(last) === 48) last--;
    if (last - start + 1 > 15) kind |= WIDE;
    if (digits - 1 > 307) kind |= HUGE;
  }
  if (digits < 19) return kind | INT64;
  if (digits === 19 && compareDigits(s, start, negative ? INT64_MIN_ABS : INT64_MAX) <= 0) return kind | INT64;
  return kind | INT_BIG;
}

/** Compares the digits of `s` from `start` with an equally long digit string. */
function compareDigits(s: string, start: number, limit: string): number {
  for (let k = 0; k < limit.length; k++) {
    const d = s.charCodeAt(start + k) - limit.charCodeAt(k);
    if (d !== 0) return d;
  }
  return 0;
}

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  // Past the end charCodeAt gives NaN, which fails these comparisons too.
  if (!(a >= 0 && a <= 9 && b >= 0 && b <= 9)) return -1;
  return a * 10 + b;
}

function isLeapYear(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** YYYY-MM-DD at the start of `s`, a real calendar date in years 0001-9999. */
function parseDate(s: string): boolean {
  const hi = twoDigits(s, 0);
  const lo = twoDigits(s, 2);
  if (hi < 0 || lo < 0 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const year = hi * 100 + lo;
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  if (year === 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  pYear = year;
  pMonth = month;
  pDay = day;
  return true;
}

/** HH:MM[:SS[.f{1,9}]] from `i`; returns the index after it, or -1. */
function parseTime(s: string, i: number): number {
  const hour = twoDigits(s, i);
  if (hour < 0 || hour > 23 || s.charCodeAt(i + 2) !== 58) return -1;
  const minute = twoDigits(s, i + 3);
  if (minute < 0 || minute > 59) return -1;
  let j = i + 5;
  let second = 0;
  let canonical = false;
  pFracStart = 0;
  pFracEnd = 0;
  if (s.charCodeAt(j) === 58) {
    second = twoDigits(s, j + 1);
    if (second < 0 || second > 59) return -1;
    j += 3;
    canonical = true;
    if (s.charCodeAt(j) === 46) {
      const start = j + 1;
      let end = start;
      let k = start;
      let c = s.charCodeAt(k);
      while (c >= 48 && c <= 57) {
        if (c !== 48) end = k + 1;
        c = s.charCodeAt(++k);
      }
      if (k === start || k - start > 9) return -1;
      // Trailing zeros carry no information, and a zero fraction is left off entirely.
      canonical = end === k;
      pFracStart = start;
      pFracEnd = end;
      j = k;
    }
  }
  pHour = hour;
  pMinute = minute;
  pSecond = second;
  pTimeIsCanonical = canonical;
  pTimeEnd = j;
  return j;
}

/** An optional zone from `i` to the end: Z, z, ±HH:MM, ±HHMM or ±HH. */
function parseZone(s: string, i: number): boolean {
  const n = s.length;
  pHasZone = false;
  pOffset = 0;
  if (i === n) return true;
  const c = s.charCodeAt(i);
  if (c === 90 || c === 122) {
    pHasZone = true;
    return i + 1 === n;
  }
  if (c !== 43 && c !== 45) return false;
  const hours = twoDigits(s, i + 1);
  if (hours < 0 || hours > 23) return false;
  let minutes = 0;
  if (i + 3 !== n) {
    const colon = s.charCodeAt(i + 3) === 58;
    const at = colon ? i + 4 : i + 3;
    minutes = twoDigits(s, at);
    if (minutes < 0 || minutes > 59 || at + 2 !== n) return false;
  }
  pHasZone = true;
  pOffset = (c === 45 ? -1 : 1) * (hours * 60 + minutes);
  return true;
}

/** 0 when `s` does not start with a date (it may still be a number such as 123e-5). */
function classifyDateOrDateTime(s: string): number {
  if (!parseDate(s)) return 0;
  const n = s.length;
  if (n === 10) return DATE;
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return TEXT;
  const end = parseTime(s, 11);
  if (end < 0 || !parseZone(s, end)) return TEXT;
  if (pOffset !== 0 && !shiftToUtc()) return TEXT;
  return DATETIME;
}

/**
 * Moves the parsed date and time by the zone offset, in place. Offsets are under a day, so the
 * date moves by at most one day and plain calendar stepping is exact. False when the result
 * leaves years 0001-9999.
 */
function shiftToUtc(): boolean {
  let total = pHour * 60 + pMinute - pOffset;
  if (total < 0) {
    total += 1440;
    if (pDay > 1) {
      pDay--;
    } else if (pMonth > 1) {
      pMonth--;
      pDay = daysInMonth(pYear, pMonth);
    } else {
      if (pYear === 1) return false;
      pYear--;
      pMonth = 12;
      pDay = 31;
    }
  } else if (total >= 1440) {
    total -= 1440;
    if (pDay < daysInMonth(pYear, pMonth)) {
      pDay++;
    } else if (pMonth < 12) {
      pMonth++;
      pDay = 1;
    } else {
      if (pYear === 9999) return false;
      pYear++;
      pMonth = 1;
      pDay = 1;
    }
  }
  pHour = Math.floor(total / 60);
  pMinute = total % 60;
  return true;
}

function pad2(v: number): string {
  return v < 10 ? `0${v}` : `${v}`;
}

function pad4(v: number): string {
  return v < 10 ? `000${v}` : v < 100 ? `00${v}` : v < 1000 ? `0${v}` : `${v}`;
}

/** HH:MM:SS plus the fraction without trailing zeros, from the last parseTime. */
function formatParsedTime(s: string): string {
  const fraction = pFracEnd > pFracStart ? `.${s.slice(pFracStart, pFracEnd)}` : '';
  return `${pad2(pHour)}:${pad2(pMinute)}:${pad2(pSecond)}${fraction}`;
}

function normalizeTime(s: string): string | undefined {
  if (s.charCodeAt(2) !== 58 || parseTime(s, 0) !== s.length) return undefined;
  return pTimeIsCanonical ? s : formatParsedTime(s);
}

function normalizeDate(s: string): string | undefined {
  return s.length === 10 && parseDate(s) ? s : undefined;
}

function normalizeDateTime(s: string): string | undefined {
  const kind = classifyDateOrDateTime(s);
  if (kind === DATE) return `${s}T00:00:00`;
  if (kind !== DATETIME) return undefined;
  if (pOffset === 0 && pTimeIsCanonical) {
    // Already in wire form apart from, at most, the separator and a zero zone.
    if (s.charCodeAt(10) === 84) return pTimeEnd === s.length ? s : s.slice(0, pTimeEnd);
    return `${s.slice(0, 10)}T${s.slice(11, pTimeEnd)}`;
  }
  const date = pOffset === 0 ? s.slice(0, 10) : `${pad4(pYear)}-${pad2(pMonth)}-${pad2(pDay)}`;
  return `${date}T${formatParsedTime(s)}`;
}

function normalizeBool(s: string): string | undefined {
  if (classifyValue(s) !== BOOL) return undefined;
  return s.length === 4 ? 'true' : 'false';
}

/** Flags a value must have (any of) and must not have (none of) to be valid for a type. */
const ACCEPT: Readonly<Record<WireType, number>> = {
  STRING: -1,
  INTEGER: INT32,
  BIGINTEGER: INT32 | INT64,
  DOUBLE: NUMBER,
  BIGDECIMAL: NUMBER,
  BOOL,
  DATE,
  TIME,
  DATETIME: DATE | DATETIME,
};

const REJECT: Readonly<Record<WireType, number>> = {
  STRING: 0,
  INTEGER: 0,
  BIGINTEGER: 0,
  DOUBLE: HUGE,
  BIGDECIMAL: 0,
  BOOL: 0,
  DATE: 0,
  TIME: 0,
  DATETIME: 0,
};

/** The flags that make a value acceptable for `type`: valid iff `kind & accept` and not `kind & reject`. */
export function kindMasksFor(type: WireType): { accept: number; reject: number } {
  return { accept: ACCEPT[type], reject: REJECT[type] };
}

/** Whether a value of `kind` (from classifyValue) is valid for a column of `type`. */
export function conformsTo(type: WireType, kind: number): boolean {
  return (kind & ACCEPT[type]) !== 0 && (kind & REJECT[type]) === 0;
}

/**
 * The type a careful reader would give a column whose cells had `kinds` (OR of classifyValue).
 * Integers: INTEGER, BIGINTEGER, or BIGDECIMAL past int64. With any fraction or exponent: DOUBLE
 * unless some value has more than 15 significant digits or lies outside the double range, then
 * BIGDECIMAL. Dates mixed with datetimes give DATETIME. No values, or anything mixed, is STRING.
 */
export function typeFromKinds(kinds: number): WireType {
  if (kinds === 0) return 'STRING';
  if ((kinds & ~NUMBER) === 0) {
    if ((kinds & FRACTION) !== 0) return (kinds & (WIDE | HUGE)) !== 0 ? 'BIGDECIMAL' : 'DOUBLE';
    if ((kinds & INT_BIG) !== 0) return 'BIGDECIMAL';
    return (kinds & INT64) !== 0 ? 'BIGINTEGER' : 'INTEGER';
  }
  if (kinds === BOOL) return 'BOOL';
  if (kinds === DATE) return 'DATE';
  if (kinds === TIME) return 'TIME';
  if ((kinds & ~(DATE | DATETIME)) === 0) return 'DATETIME';
  return 'STRING';
}

/** True once no further value can move a column with these kinds away from STRING. */
export function isSettledAsString(kinds: number): boolean {
  return kinds !== 0 && typeFromKinds(kinds) === 'STRING';
}

/**
 * The wire text of a non-null value for a column of `type`, or undefined when the value is not
 * valid for it. Numbers come back unchanged; BOOL as `true`/`false`; DATE as given; TIME as
 * HH:MM:SS[.fraction]; DATETIME as YYYY-MM-DDTHH:MM:SS[.fraction] in UTC, fraction without
 * trailing zeros and left off when zero. STRING text comes back unchanged (not JSON-quoted).
 */
export function normalizeValue(type: WireType, text: string): string | undefined {
  switch (type) {
    case 'STRING':
      return text;
    case 'INTEGER':
    case 'BIGINTEGER':
    case 'DOUBLE':
    case 'BIGDECIMAL': {
      const c0 = text.charCodeAt(0);
      if (c0 !== 45 && !(c0 >= 48 && c0 <= 57)) return undefined;
      const kind = classifyNumber(text);
      return (kind & ACCEPT[type]) !== 0 && (kind & REJECT[type]) === 0 ? text : undefined;
    }
    case 'BOOL':
      return normalizeBool(text);
    case 'DATE':
      return normalizeDate(text);
    case 'TIME':
      return normalizeTime(text);
    case 'DATETIME':
      return normalizeDateTime(text);
  }
}

/** What values a type accepts, in words, for error hints. */
export function describeType(type: WireType): string {
  switch (type) {
    case 'STRING':
      return 'STRING takes any text';
    case 'INTEGER':
      return 'INTEGER takes whole numbers from -2147483648 to 2147483647, written without +, leading zeros or separators';
    case 'BIGINTEGER':
      return 'BIGINTEGER takes whole numbers from -9223372036854775808 to 9223372036854775807, written without +, leading zeros or separators';
    case 'DOUBLE':
      return 'DOUBLE takes numbers written like 42, -0.5 or 1.5e-9 (no +, leading zeros or separators) within the range of a double';
    case 'BIGDECIMAL':
      return 'BIGDECIMAL takes numbers of any size written like 42, -0.5 or 1.5e-9 (no +, leading zeros or separators)';
    case 'BOOL':
      return 'BOOL takes true or false, in any case';
    case 'DATE':
      return 'DATE takes calendar dates written YYYY-MM-DD, years 0001 to 9999';
    case 'TIME':
      return 'TIME takes times written HH:MM, HH:MM:SS or HH:MM:SS.fffffffff';
    case 'DATETIME':
      return 'DATETIME takes YYYY-MM-DD, then T or a space, then HH:MM[:SS[.fffffffff]], then optionally a zone (Z, +HH:MM, +HHMM or +HH), within years 0001 to 9999 in UTC';
  }
}

/** A value shortened for a one-line message. */
export function quoteValue(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
