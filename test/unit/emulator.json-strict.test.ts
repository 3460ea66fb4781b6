import { JsonNumber, isJsonNumber, isJsonObject, parseStrictJson, parseStrictJsonArray } from '../../src/emulator/json-strict.js';
import type { StrictJsonValue } from '../../src/emulator/json-strict.js';

/** The strict tree as JSON.parse would build it, so JSON.parse can serve as the oracle. */
function toPlain(value: StrictJsonValue): unknown {
  if (isJsonNumber(value)) return Number(value.text);
  if (Array.isArray(value)) return value.map(toPlain);
  if (isJsonObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) {
      Object.defineProperty(out, k, { value: toPlain(v), enumerable: true, configurable: true, writable: true });
    }
    return out;
  }
  return value;
}

function parseError(text: string): unknown {
  try {
    parseStrictJson(text);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

function acceptedByJsonParse(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// Small deterministic PRNG (mulberry32) so generated cases are reproducible.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parseStrictJson', () => {
  it('keeps number tokens as their exact source text', () => {
    const value = parseStrictJson('[9223372036854775807, 0.1000000000000000055511, -0, 1E+400, 1.50]');
    expect(Array.isArray(value)).toBe(true);
    expect((value as StrictJsonValue[]).map((v) => (v as JsonNumber).text)).toEqual([
      '9223372036854775807',
      '0.1000000000000000055511',
      '-0',
      '1E+400',
      '1.50',
    ]);
  });

  it('builds objects as Maps where a repeated key keeps its last value and __proto__ is plain data', () => {
    const value = parseStrictJson('{"a":1,"__proto__":{"x":true},"a":"two"}');
    expect(isJsonObject(value)).toBe(true);
    const map = value as Map<string, StrictJsonValue>;
    expect(map.get('a')).toBe('two');
    expect(isJsonObject(map.get('__proto__'))).toBe(true);
    expect([...map.keys()]).toEqual(['a', '__proto__']);
  });

  it('decodes every escape including lone surrogates, as JSON.parse does', () => {
    const text = '"q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00 lone \\ud800 end"';
    expect(parseStrictJson(text)).toBe(JSON.parse(text));
    expect(parseStrictJson('"\\uDC00"')).toBe('\udc00');
  });

  it('accepts whitespace of all four JSON kinds around tokens', () => {
    expect(toPlain(parseStrictJson(' \t\r\n[ 1 ,\n\t"a" , { "k" :\r\n null } ]\n '))).toEqual([1, 'a', { k: null }]);
  });

  it('parses 100000 levels of nesting without exhausting the stack', () => {
    const depth = 100000;
    const value = parseStrictJson(`${'['.repeat(depth)}1${']'.repeat(depth)}`);
    let level = 0;
    let node: StrictJsonValue = value;
    while (Array.isArray(node)) {
      node = node[0] ?? null;
      level++;
    }
    expect(level).toBe(depth);
    expect(node).toEqual(new JsonNumber('1'));
  });

  it.each([
    ['trailing comma in an array', '[1,2,]'],
    ['trailing comma in an object', '{"a":1,}'],
    ['single-quoted string', "['a']"],
    ['single-quoted key', "{'a':1}"],
    ['leading zero', '[01]'],
    ['negative leading zero', '-012'],
    ['bare decimal point', '1.'],
    ['leading decimal point', '.5'],
    ['plus sign', '+1'],
    ['empty exponent', '1e'],
    ['hex number', '0x10'],
    ['NaN', 'NaN'],
    ['Infinity', '[Infinity]'],
    ['raw newline in a string', '"a\nb"'],
    ['raw tab in a string', '"a\tb"'],
    ['raw NUL in a string', '"a\u0000b"'],
    ['raw unit separator after an escape', '"\\n\u001f"'],
    ['raw newline after an escape', '["\\"\n"]'],
    ['unknown escape', '"\\x41"'],
    ['short unicode escape', '"\\u12"'],
    ['unterminated string', '"abc'],
    ['unquoted key', '{a:1}'],
    ['missing colon', '{"a" 1}'],
    ['missing comma', '[1 2]'],
    ['two top-level values', '1 2'],
    ['empty input', ''],
    ['only whitespace', ' \n '],
    ['leading byte order mark', '\ufeff[1]'],
    ['non-breaking space as whitespace', '[1,\u00a02]'],
    ['comment', '[1 /* c */]'],
    ['capitalised literal', 'True'],
    ['truncated literal', 'nul'],
    ['unclosed array', '[1,[2]'],
    ['mismatched brackets', '[1}'],
  ])('rejects %s like JSON.parse does', (_name, text) => {
    expect(acceptedByJsonParse(text)).toBe(false);
    expect(parseError(text)).toMatchObject({ code: 'INPUT_PARSE' });
  });

  it('reports the line and column where parsing stopped', () => {
    expect(parseError('[1,\n  2,\n  ]')).toMatchObject({ code: 'INPUT_PARSE', line: 3, column: 3, offset: 11 });
  });

  it('agrees with JSON.parse on seeded random mutations of valid JSON', () => {
    const random = prng(20240521);
    const alphabet = ['[', ']', '{', '}', ',', ':', '"', '\\', '0', '1', '-', '.', 'e', '+', ' ', '\n', 'a', 'n', 't', 'u', 'l', 'f', 'x'];
    const base = '{"a":[1,-2.5e3,"x\\"y",true,null,{"b":false}],"c":"\\u0041","d":0.0001}';
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const chars = base.split('');
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (chars.length + 1));
        const pick = alphabet[Math.floor(random() * alphabet.length)] ?? ' ';
        const kind = random();
        if (kind < 0.34) chars.splice(at, 1);
        else if (kind < 0.67) chars.splice(at, 0, pick);
        else chars.splice(at, 1, pick);
      }
      const text = chars.join('');
      const oracle = acceptedByJsonParse(text);
      let ours: boolean;
      try {
        const value = parseStrictJson(text);
        ours = true;
        expect(toPlain(value)).toEqual(JSON.parse(text));
      } catch (error) {
        if (!(error instanceof Error) || !('code' in error)) throw error;
        ours = false;
      }
      if (ours !== oracle) throw new Error(`disagreement on ${JSON.stringify(text)}: JSON.parse ${oracle}, strict ${ours}`);
      if (ours) accepted++;
    }
    // Guard against a mutation rate that only ever produces garbage.
    expect(accepted).toBeGreaterThan(100);
  });

  it('parses a 20 MB string quickly and exactly', () => {
    const payload = 'QUJD'.repeat(5 * 1024 * 1024);
    const started = Date.now();
    const value = parseStrictJson(`{"data":"${payload}"}`) as Map<string, StrictJsonValue>;
    expect(value.get('data')).toBe(payload);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('parseStrictJsonArray', () => {
  it('hands over each top-level element in order without keeping the array', () => {
    const seen: Array<[unknown, number]> = [];
    const result = parseStrictJsonArray('[[1,"a"], [], {"k":[2]}, null]', (value, index) => seen.push([toPlain(value), index]));
    expect(result).toEqual({ kind: 'array', length: 4 });
    expect(seen).toEqual([
      [[1, 'a'], 0],
      [[], 1],
      [{ k: [2] }, 2],
      [null, 3],
    ]);
  });

  it('returns any other top-level value whole and reports an empty array as length 0', () => {
    const calls: unknown[] = [];
    const other = parseStrictJsonArray('{"rows":[1]}', (value) => calls.push(value));
    expect(other.kind).toBe('other');
    expect(calls).toEqual([]);
    expect(parseStrictJsonArray(' [ ] ', () => calls.push(1))).toEqual({ kind: 'array', length: 0 });
  });

  it('still rejects a syntax error after the elements it already handed over', () => {
    const seen: unknown[] = [];
    expect(() => parseStrictJsonArray('[[1],[2],]', (value) => seen.push(toPlain(value)))).toThrow(expect.objectContaining({ code: 'INPUT_PARSE' }));
    expect(seen).toEqual([[1], [2]]);
  });
});
