// Shortcuts of values.ts for cells still in UTF-8 bytes: the common shapes (short integers,
// plain decimals, ISO dates and times, true/false) are recognised without making a string.
// Anything else answers "ask values.ts", so the rules themselves live in one place only.

import { VALUE_KIND } from './values.js';
import type { WireType } from './types.js';

/** classifyBytes could not decide; classify the cell's text with classifyValue instead. */
export const ASK_TEXT = -1;

const ZERO = 48;
const NINE = 57;
const MINUS = 45;
const DOT = 46;
const COLON = 58;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

function two(buf: Uint8Array, i: number): number {
  return (buf[i]! - ZERO) * 10 + (buf[i + 1]! - ZERO);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** YYYY-MM-DD at `s`: a real date in years 0001-9999. */
function isDateAt(buf: Uint8Array, s: number): boolean {
  if (buf[s + 4] !== MINUS || buf[s + 7] !== MINUS) return false;
  if (!(isDigit(buf[s]) && isDigit(buf[s + 1]) && isDigit(buf[s + 2]) && isDigit(buf[s + 3]))) return false;
  if (!(isDigit(buf[s + 5]) && isDigit(buf[s + 6]) && isDigit(buf[s + 8]) && isDigit(buf[s + 9]))) return false;
  const year = two(buf, s) * 100 + two(buf, s + 2);
  const month = two(buf, s + 5);
  const day = two(buf, s + 8);
  return year !== 0 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** HH:MM:SS at `s`, in range. */
function isTimeAt(buf: Uint8Array, s: number): boolean {
  if (buf[s + 2] !== COLON || buf[s + 5] !== COLON) return false;
  if (!(isDigit(buf[s]) && isDigit(buf[s + 1]) && isDigit(buf[s + 3]) && isDigit(buf[s + 4]))) return false;
  if (!(isDigit(buf[s + 6]) && isDigit(buf[s + 7]))) return false;
  return two(buf, s) <= 23 && two(buf, s + 3) <= 59 && two(buf, s + 6) <= 59;
}

/**
 * From `s`: `.` and 1-9 digits ending in a non-zero digit, up to `e`. Such a fraction is already
 * canonical: values.ts drops trailing zeros, and a zero fraction altogether.
 */
function isCanonicalFraction(buf: Uint8Array, s: number, e: number): boolean {
  const digits = e - s - 1;
  if (buf[s] !== DOT || digits < 1 || digits > 9 || buf[e - 1] === ZERO) return false;
  for (let k = s + 1; k < e; k++) if (!isDigit(buf[k])) return false;
  return true;
}

/** `-?(0|[1-9][0-9]*)` from `s`; returns the index after the digits, or -1. */
function integerPart(buf: Uint8Array, s: number, e: number): number {
  let i = buf[s] === MINUS ? s + 1 : s;
  if (i >= e) return -1;
  if (buf[i] === ZERO) return i + 1;
  while (i < e && isDigit(buf[i])) i++;
  return i;
}

/**
 * The VALUE_KIND of the cell `buf[s..e)` for the shapes decided here, else ASK_TEXT. Where it
 * answers, it answers exactly as classifyValue does for the same text.
 */
export function classifyBytes(buf: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 0) return ASK_TEXT;
  const c0 = buf[s]!;
  if (c0 === MINUS || isDigit(c0)) {
    if (n === 10 && buf[s + 4] === MINUS) return isDateAt(buf, s) ? VALUE_KIND.DATE : ASK_TEXT;
    if (n >= 19 && buf[s + 4] === MINUS && buf[s + 10] === 84) {
      return isDateAt(buf, s) && isTimeAt(buf, s + 11) && (n === 19 || isCanonicalFraction(buf, s + 19, e)) ? VALUE_KIND.DATETIME : ASK_TEXT;
    }
    const intEnd = integerPart(buf, s, e);
    if (intEnd < 0) return ASK_TEXT;
    const intDigits = intEnd - (c0 === MINUS ? s + 1 : s);
    if (intDigits === 0) return ASK_TEXT;
    // Up to 9 digits always fits int32; longer ones need the range checks of values.ts.
    if (intEnd === e) return intDigits <= 9 ? VALUE_KIND.INT32 : ASK_TEXT;
    if (buf[intEnd] !== DOT || intEnd + 1 === e) return ASK_TEXT;
    for (let k = intEnd + 1; k < e; k++) if (!isDigit(buf[k])) return ASK_TEXT;
    // At most 15 digits in all: a double holds them, and no exponent puts them out of range.
    return intDigits + (e - intEnd - 1) <= 15 ? VALUE_KIND.FRACTION : ASK_TEXT;
  }
  if (n === 4 && c0 === 116 && buf[s + 1] === 114 && buf[s + 2] === 117 && buf[s + 3] === 101) return VALUE_KIND.BOOL;
  if (n === 5 && c0 === 102 && buf[s + 1] === 97 && buf[s + 2] === 108 && buf[s + 3] === 115 && buf[s + 4] === 101) {
    return VALUE_KIND.BOOL;
  }
  return ASK_TEXT;
}

/**
 * True when `buf[s..e)` is a valid value of `type` that normalizeValue would hand back unchanged,
 * so its bytes can go on the wire as they are (inside quotes for the quoted types). False means
 * "ask normalizeValue": the value may still be valid in another spelling.
 */
export function isWireReady(type: WireType, buf: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  switch (type) {
    case 'STRING':
      return true;
    case 'INTEGER':
    case 'BIGINTEGER':
    case 'DOUBLE':
    case 'BIGDECIMAL': {
      if (n === 0) return false;
      const intEnd = integerPart(buf, s, e);
      if (intEnd < 0) return false;
      const intDigits = intEnd - (buf[s] === MINUS ? s + 1 : s);
      if (intDigits === 0) return false;
      if (intEnd === e) {
        if (type === 'INTEGER') return intDigits <= 9;
        if (type === 'BIGINTEGER') return intDigits <= 18;
        // Any integer is a BIGDECIMAL; a DOUBLE only within 15 digits (no range question then).
        return type === 'BIGDECIMAL' || intDigits <= 15;
      }
      if (type === 'INTEGER' || type === 'BIGINTEGER') return false;
      if (buf[intEnd] !== DOT || intEnd + 1 === e) return false;
      for (let k = intEnd + 1; k < e; k++) if (!isDigit(buf[k])) return false;
      return type === 'BIGDECIMAL' || intDigits + (e - intEnd - 1) <= 15;
    }
    case 'BOOL':
      return (
        (n === 4 && buf[s] === 116 && buf[s + 1] === 114 && buf[s + 2] === 117 && buf[s + 3] === 101) ||
        (n === 5 && buf[s] === 102 && buf[s + 1] === 97 && buf[s + 2] === 108 && buf[s + 3] === 115 && buf[s + 4] === 101)
      );
    case 'DATE':
      return n === 10 && isDateAt(buf, s);
    case 'TIME':
      return (n === 8 || isCanonicalFraction(buf, s + 8, e)) && n >= 8 && isTimeAt(buf, s);
    case 'DATETIME':
      return n >= 19 && buf[s + 10] === 84 && isDateAt(buf, s) && isTimeAt(buf, s + 11) && (n === 19 || isCanonicalFraction(buf, s + 19, e));
  }
}
