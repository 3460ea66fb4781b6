// A JSON parser that rejects exactly what JSON.parse rejects but keeps every number as its source
// text, so an emulator can check 9223372036854775807 or 0.1000000000000000055511 against a column
// type without the double rounding JSON.parse would apply. Iterative, so nesting depth is unbounded.

import { InputError } from '../errors.js';

/** A JSON number token, kept verbatim (`-0`, `1.0`, `1e400` all survive as written). */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** Objects are Maps so keys such as `__proto__` are plain data; a repeated key keeps its last value, as in JSON.parse. */
export type StrictJsonObject = Map<string, StrictJsonValue>;

export type StrictJsonValue = null | boolean | string | JsonNumber | StrictJsonValue[] | StrictJsonObject;

/** A syntax error, with the 0-based character offset and 1-based line and column where parsing stopped. */
export class StrictJsonError extends InputError {
  readonly offset: number;
  readonly line: number;
  readonly column: number;

  constructor(reason: string, text: string, offset: number) {
    const { line, column } = lineAndColumn(text, offset);
    super('INPUT_PARSE', `${reason} at line ${line} column ${column}`);
    this.offset = offset;
    this.line = line;
    this.column = column;
  }
}

export function isJsonNumber(value: StrictJsonValue | undefined): value is JsonNumber {
  return value instanceof JsonNumber;
}

export function isJsonObject(value: StrictJsonValue | undefined): value is StrictJsonObject {
  return value instanceof Map;
}

/**
 * Parses one JSON text (RFC 8259, as ECMAScript's JSON.parse reads it: whitespace is only space,
 * tab, LF and CR, so a leading BOM is an error). Throws StrictJsonError on any syntax error.
 */
export function parseStrictJson(text: string): StrictJsonValue {
  return new Parser(text, undefined).parseDocument();
}

export type StrictJsonArrayResult = { kind: 'array'; length: number } | { kind: 'other'; value: StrictJsonValue };

/**
 * Like parseStrictJson, but when the top-level value is an array each element goes to
 * `onElement` as soon as it is complete and is not kept, so a huge array of rows never sits in
 * memory as one tree. Any other top-level value is returned whole. Elements already handed over
 * stay handed over if a syntax error follows.
 */
export function parseStrictJsonArray(text: string, onElement: (value: StrictJsonValue, index: number) => void): StrictJsonArrayResult {
  const parser = new Parser(text, onElement);
  const value = parser.parseDocument();
  return Array.isArray(value) ? { kind: 'array', length: parser.elementCount } : { kind: 'other', value };
}

interface ArrayFrame {
  readonly items: StrictJsonValue[];
  readonly object: undefined;
  key: string;
}

interface ObjectFrame {
  readonly items: undefined;
  readonly object: StrictJsonObject;
  key: string;
}

type Frame = ArrayFrame | ObjectFrame;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

// A control character anywhere in a run of string text; native regex scanning keeps huge base64
// strings fast.
const CONTROL_CHAR = /[\u0000-\u001f]/;

class Parser {
  private pos = 0;
  elementCount = 0;

  constructor(
    private readonly text: string,
    private readonly onTopElement: ((value: StrictJsonValue, index: number) => void) | undefined,
  ) {}

  parseDocument(): StrictJsonValue {
    const text = this.text;
    const stack: Frame[] = [];
    this.skipWhitespace();
    for (;;) {
      // At the start of each pass a value is expected at this.pos.
      let value: StrictJsonValue;
      const c = text.charCodeAt(this.pos);
      if (c === OPEN_BRACKET) {
        this.pos++;
        this.skipWhitespace();
        if (text.charCodeAt(this.pos) === CLOSE_BRACKET) {
          this.pos++;
          value = [];
        } else {
          stack.push({ items: [], object: undefined, key: '' });
          continue;
        }
      } else if (c === OPEN_BRACE) {
        this.pos++;
        this.skipWhitespace();
        if (text.charCodeAt(this.pos) === CLOSE_BRACE) {
          this.pos++;
          value = new Map();
        } else {
          const key = this.parseKey();
          stack.push({ items: undefined, object: new Map(), key });
          continue;
        }
      } else {
        value = this.parsePrimitive(c);
      }

      // A value is complete: hand it to its container, then close as many containers as end here.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) {
          this.skipWhitespace();
          if (this.pos !== text.length) this.fail('Unexpected data after the JSON value');
          return value;
        }
        if (top.items === undefined) top.object.set(top.key, value);
        else if (this.onTopElement !== undefined && stack.length === 1) this.onTopElement(value, this.elementCount++);
        else top.items.push(value);
        this.skipWhitespace();
        const next = text.charCodeAt(this.pos);
        if (next === COMMA) {
          this.pos++;
          this.skipWhitespace();
          if (top.object !== undefined) top.key = this.parseKey();
          break;
        }
        if (top.items !== undefined && next === CLOSE_BRACKET) {
          this.pos++;
          stack.pop();
          value = top.items;
          continue;
        }
        if (top.object !== undefined && next === CLOSE_BRACE) {
          this.pos++;
          stack.pop();
          value = top.object;
          continue;
        }
        this.fail(top.items !== undefined ? "Expected ',' or ']'" : "Expected ',' or '}'");
      }
    }
  }

  /** Reads `"key"` and the colon after it, leaving pos at the value. */
  private parseKey(): string {
    if (this.text.charCodeAt(this.pos) !== QUOTE) this.fail('Expected a string key');
    const key = this.parseString();
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) !== COLON) this.fail("Expected ':'");
    this.pos++;
    this.skipWhitespace();
    return key;
  }

  private parsePrimitive(c: number): StrictJsonValue {
    if (c === QUOTE) return this.parseString();
    if (c === MINUS || (c >= ZERO && c <= NINE)) return this.parseNumber();
    if (this.matchLiteral('true')) return true;
    if (this.matchLiteral('false')) return false;
    if (this.matchLiteral('null')) return null;
    if (Number.isNaN(c)) this.fail('Unexpected end of JSON input');
    return this.fail('Unexpected character');
  }

  private matchLiteral(word: string): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    this.pos += word.length;
    return true;
  }

  private parseNumber(): JsonNumber {
    const text = this.text;
    const start = this.pos;
    let p = start;
    if (text.charCodeAt(p) === MINUS) p++;
    const first = text.charCodeAt(p);
    if (first === ZERO) {
      p++;
      // JSON forbids leading zeros: "01" is an error, not 1.
      const after = text.charCodeAt(p);
      if (after >= ZERO && after <= NINE) this.failAt('Leading zeros are not allowed', p);
    } else if (first >= ZERO + 1 && first <= NINE) {
      p = this.skipDigits(p);
    } else {
      this.failAt('Expected a digit', p);
    }
    if (text.charCodeAt(p) === DOT) {
      p++;
      const fractionStart = p;
      p = this.skipDigits(p);
      if (p === fractionStart) this.failAt('Expected a digit after the decimal point', p);
    }
    const e = text.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      p++;
      const sign = text.charCodeAt(p);
      if (sign === PLUS || sign === MINUS) p++;
      const exponentStart = p;
      p = this.skipDigits(p);
      if (p === exponentStart) this.failAt('Expected a digit in the exponent', p);
    }
    this.pos = p;
    return new JsonNumber(text.slice(start, p));
  }

  private skipDigits(from: number): number {
    const text = this.text;
    let p = from;
    for (;;) {
      const c = text.charCodeAt(p);
      if (c < ZERO || c > NINE || Number.isNaN(c)) return p;
      p++;
    }
  }

  private parseString(): string {
    const text = this.text;
    const start = this.pos + 1;
    const close = text.indexOf('"', start);
    if (close === -1) this.failAt('Unterminated string', text.length);
    const run = text.slice(start, close);
    // Fast path: no escapes, so the run up to the next quote is the whole string.
    if (run.indexOf('\\') === -1) {
      if (CONTROL_CHAR.test(run)) this.failAt('Control character in string', start + run.search(CONTROL_CHAR));
      this.pos = close + 1;
      return run;
    }
    return this.parseEscapedString(start);
  }

  private parseEscapedString(start: number): string {
    const text = this.text;
    let out = '';
    let runStart = start;
    let p = start;
    for (;;) {
      const c = text.charCodeAt(p);
      if (Number.isNaN(c)) this.failAt('Unterminated string', p);
      if (c === QUOTE) {
        out += text.slice(runStart, p);
        this.pos = p + 1;
        return out;
      }
      if (c < 0x20) this.failAt('Control character in string', p);
      if (c !== BACKSLASH) {
        p++;
        continue;
      }
      out += text.slice(runStart, p);
      const escape = text.charCodeAt(p + 1);
      switch (escape) {
        case QUOTE:
          out += '"';
          break;
        case BACKSLASH:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          const hex = text.slice(p + 2, p + 6);
          // Lone surrogates are legal here, as in JSON.parse; they simply become lone UTF-16 units.
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.failAt('Bad \\u escape', p);
          out += String.fromCharCode(Number.parseInt(hex, 16));
          p += 4;
          break;
        }
        default:
          this.failAt('Bad escape', p);
      }
      p += 2;
      runStart = p;
    }
  }

  private skipWhitespace(): void {
    const text = this.text;
    let p = this.pos;
    for (;;) {
      const c = text.charCodeAt(p);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    this.pos = p;
  }

  private fail(reason: string): never {
    return this.failAt(reason, this.pos);
  }

  private failAt(reason: string, offset: number): never {
    const c = this.text.charCodeAt(offset);
    const detail = Number.isNaN(c)
      ? offset >= this.text.length && reason === 'Unexpected character'
        ? 'Unexpected end of JSON input'
        : reason
      : `${reason} (found ${JSON.stringify(this.text.charAt(offset))})`;
    throw new StrictJsonError(detail, this.text, offset);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}
