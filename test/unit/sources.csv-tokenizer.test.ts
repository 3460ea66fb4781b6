import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { CsvTokenizer } from '../../src/sources/csv-tokenizer.js';
import type { CsvDialect, CsvRecord } from '../../src/sources/csv-tokenizer.js';

const COMMA: CsvDialect = { delimiter: ',', quote: '"' };

/** Tokenizes `pieces` pushed one after another, taking records after every push. */
function tokenize(pieces: readonly string[], dialect: CsvDialect = COMMA): CsvRecord[] {
  const tokenizer = new CsvTokenizer(dialect, { file: 'in.csv' });
  const out: CsvRecord[] = [];
  for (const piece of pieces) {
    tokenizer.push(piece);
    out.push(...tokenizer.takeRecords());
  }
  tokenizer.end();
  out.push(...tokenizer.takeRecords());
  return out;
}

const fieldsOf = (records: CsvRecord[]) => records.map((r) => r.fields);
const linesOf = (records: CsvRecord[]) => records.map((r) => r.line);

function errorOf(pieces: readonly string[], dialect: CsvDialect = COMMA): unknown {
  try {
    tokenize(pieces, dialect);
  } catch (error) {
    return error;
  }
  throw new Error('expected the tokenizer to throw');
}

/** A deterministic pseudo-random generator so generated inputs are reproducible. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Cuts `text` at random offsets, including inside surrogate pairs and CRLF pairs. */
function randomPieces(text: string, random: () => number, maxPiece: number): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < text.length; ) {
    const size = 1 + Math.floor(random() * maxPiece);
    pieces.push(text.slice(at, at + size));
    at += size;
  }
  return pieces;
}

describe('CsvTokenizer', () => {
  it('splits fields on the delimiter and records on LF', () => {
    const records = tokenize(['a,b,c\n1,2,3\n']);
    expect(fieldsOf(records)).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ]);
    expect(linesOf(records)).toEqual([1, 2]);
  });

  it('accepts CRLF, LF and a lone CR as record terminators in one input', () => {
    const records = tokenize(['a\r\nb\nc\rd']);
    expect(fieldsOf(records)).toEqual([['a'], ['b'], ['c'], ['d']]);
    expect(linesOf(records)).toEqual([1, 2, 3, 4]);
  });

  it('produces no trailing empty record for a final line break', () => {
    expect(fieldsOf(tokenize(['a,b\n']))).toEqual([['a', 'b']]);
    expect(fieldsOf(tokenize(['a,b\r\n']))).toEqual([['a', 'b']]);
    expect(fieldsOf(tokenize(['a,b\r']))).toEqual([['a', 'b']]);
  });

  it('skips blank lines but counts them for line numbers', () => {
    const records = tokenize(['\n\na,b\n\r\n\r1,2\n\n']);
    expect(fieldsOf(records)).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(linesOf(records)).toEqual([3, 6]);
  });

  it('keeps a line of spaces, and a lone quoted empty field, as records', () => {
    expect(fieldsOf(tokenize(['  \n""\n']))).toEqual([['  '], ['']]);
  });

  it('reads empty fields at the start, middle and end of a record', () => {
    expect(fieldsOf(tokenize([',a,,b,\n,\n']))).toEqual([
      ['', 'a', '', 'b', ''],
      ['', ''],
    ]);
    expect(fieldsOf(tokenize(['a,b,']))).toEqual([['a', 'b', '']]);
  });

  it('unwraps quoted fields holding delimiters, doubled quotes and line breaks', () => {
    const records = tokenize(['x,"a,b","say ""hi""","one\ntwo\r\nthree",""\n']);
    expect(fieldsOf(records)).toEqual([['x', 'a,b', 'say "hi"', 'one\ntwo\r\nthree', '']]);
  });

  it('numbers a record by the line it starts on, counting line breaks inside quotes', () => {
    const records = tokenize(['h\n"a\nb\r\nc\rd"\nnext\n"\n"\nlast']);
    expect(fieldsOf(records)).toEqual([['h'], ['a\nb\r\nc\rd'], ['next'], ['\n'], ['last']]);
    expect(linesOf(records)).toEqual([1, 2, 6, 7, 9]);
  });

  it('treats a quote inside an unquoted field as data', () => {
    expect(fieldsOf(tokenize(['5\'11",ab"c"d, "x"\n']))).toEqual([['5\'11"', 'ab"c"d', ' "x"']]);
  });

  it('reads quotes as data when quoting is off', () => {
    const records = tokenize(['"a,b"\n"c""\n'], { delimiter: ',', quote: null });
    expect(fieldsOf(records)).toEqual([
      ['"a', 'b"'],
      ['"c""'],
    ]);
  });

  it('uses another delimiter and quote character when told', () => {
    const records = tokenize(["'a;b'|c;d|'it''s'\n"], { delimiter: '|', quote: "'" });
    expect(fieldsOf(records)).toEqual([['a;b', 'c;d', "it's"]]);
    expect(fieldsOf(tokenize(['a\tb,c\t"d\te"\n'], { delimiter: '\t', quote: '"' }))).toEqual([
      ['a', 'b,c', 'd\te'],
    ]);
  });

  it('keeps astral characters intact', () => {
    expect(fieldsOf(tokenize(['😀,"𝄞,x"\n']))).toEqual([['😀', '𝄞,x']]);
  });

  it('gives the same records whatever two pieces the input is split into', () => {
    const text = 'id,"a ""b""",c\r\n"multi\r\nline",,"x"\r\r"q""",end\n\n😀"lit",last\r"",\r\n';
    const expected = tokenize([text]);
    expect(fieldsOf(expected)).toEqual([
      ['id', 'a "b"', 'c'],
      ['multi\r\nline', '', 'x'],
      ['q"', 'end'],
      ['😀"lit"', 'last'],
      ['', ''],
    ]);
    expect(linesOf(expected)).toEqual([1, 2, 5, 7, 8]);
    for (let cut = 0; cut <= text.length; cut++) {
      expect([cut, tokenize([text.slice(0, cut), text.slice(cut)])]).toEqual([cut, expected]);
    }
  });

  it('gives the same records when fed one character at a time', () => {
    const text = 'a,"b\r\n""c"""\r\n\r\nd,e\r"f"\r\n';
    expect(tokenize([...text.split('')])).toEqual(tokenize([text]));
  });

  it('joins a CRLF pair split across pushes into one line break', () => {
    const records = tokenize(['a\r', '\nb\r', '\n', 'c']);
    expect(fieldsOf(records)).toEqual([['a'], ['b'], ['c']]);
    expect(linesOf(records)).toEqual([1, 2, 3]);
  });

  it('joins a CRLF pair inside quotes split across pushes into one line break', () => {
    const records = tokenize(['"a\r', '\nb",c\nd']);
    expect(fieldsOf(records)).toEqual([['a\r\nb', 'c'], ['d']]);
    expect(linesOf(records)).toEqual([1, 3]);
  });

  it('reads a doubled quote split across pushes as one quote', () => {
    expect(fieldsOf(tokenize(['"a"', '"b"']))).toEqual([['a"b']]);
    expect(fieldsOf(tokenize(['"a', '""', 'b"\n']))).toEqual([['a"b']]);
  });

  it('hands records over only once', () => {
    const tokenizer = new CsvTokenizer(COMMA);
    tokenizer.push('a\nb\nc');
    expect(fieldsOf(tokenizer.takeRecords())).toEqual([['a'], ['b']]);
    expect(tokenizer.takeRecords()).toEqual([]);
    tokenizer.end();
    expect(fieldsOf(tokenizer.takeRecords())).toEqual([['c']]);
  });

  it('reports a character after a closing quote with its line and field number', () => {
    const error = errorOf(['a,b\n1,"x\ny"z,3\n']);
    expect(error).toMatchObject({
      code: 'INPUT_PARSE',
      location: { file: 'in.csv', line: 3, column: 2, value: 'z' },
    });
    expect((error as Error).message).toBe("in.csv:3: unexpected character 'z' after closing quote in field 2");
  });

  it('reports a character after a closing quote even when it arrives in the next push', () => {
    expect(errorOf(['"a"', ' ,b\n'])).toMatchObject({ code: 'INPUT_PARSE', location: { line: 1, column: 1 } });
  });

  it('reports an unterminated quote at the line where the field opened', () => {
    const error = errorOf(['a,b\n1,"open\n2,3\n4,5\n']);
    expect(error).toMatchObject({ code: 'INPUT_PARSE', location: { file: 'in.csv', line: 2, column: 2 } });
    expect((error as Error).message).toMatch(/^in\.csv:2: unterminated quoted field/);
  });

  it('refuses a record longer than maxRecordChars, naming the line it starts on', () => {
    const tokenizer = new CsvTokenizer(COMMA, { file: 'in.csv', maxRecordChars: 100 });
    tokenizer.push('a\nb\n"');
    let error: unknown;
    try {
      for (let i = 0; i < 20; i++) tokenizer.push('0123456789');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'INPUT_RECORD_TOO_LARGE', location: { line: 3 } });
  });

  it('accepts a record of exactly maxRecordChars', () => {
    const tokenizer = new CsvTokenizer(COMMA, { maxRecordChars: 10 });
    tokenizer.push('0123456789\n');
    tokenizer.end();
    expect(fieldsOf(tokenizer.takeRecords())).toEqual([['0123456789']]);
  });

  it('rejects a dialect whose delimiter equals its quote, or is not one character', () => {
    expect(() => new CsvTokenizer({ delimiter: '"', quote: '"' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => new CsvTokenizer({ delimiter: ',,', quote: null })).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
    expect(() => new CsvTokenizer({ delimiter: '\n', quote: null })).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
  });
});

describe('CsvTokenizer against csv-parse', () => {
  const alphabet = ['a', 'b', 'Z', ' ', '0', 'é', '東', '😀', '𝄞', ',', ';', '\t', '"', '\n', '\r', '\r\n'];

  function randomField(random: () => number): string {
    if (random() < 0.15) return '';
    let field = '';
    const length = 1 + Math.floor(random() * 8);
    for (let i = 0; i < length; i++) field += alphabet[Math.floor(random() * alphabet.length)]!;
    return field;
  }

  // Writes a field the way a careful producer would: quoted when it must be, sometimes anyway.
  function writeField(field: string, delimiter: string, forceQuote: boolean, random: () => number): string {
    const mustQuote =
      forceQuote || field.startsWith('"') || field.includes(delimiter) || field.includes('\n') || field.includes('\r');
    return mustQuote || random() < 0.2 ? `"${field.replaceAll('"', '""')}"` : field;
  }

  /** Generates CSV text and the start line of every record, counted independently. */
  function generate(seed: number, records: number, delimiter: string): { text: string; lines: number[] } {
    const random = seeded(seed);
    const terminators = ['\n', '\r\n', '\r'];
    let text = '';
    const lines: number[] = [];
    for (let r = 0; r < records; r++) {
      // A blank line now and then; only LF, so it cannot merge with a preceding CR.
      if (random() < 0.05 && !text.endsWith('\r')) text += '\n';
      lines.push(countLineBreaks(text) + 1);
      const width = 1 + Math.floor(random() * 6);
      const fields = Array.from({ length: width }, () => randomField(random));
      text += fields.map((f) => writeField(f, delimiter, width === 1 && f === '', random)).join(delimiter);
      if (r < records - 1 || random() < 0.5) text += terminators[Math.floor(random() * 3)]!;
    }
    return { text, lines };
  }

  function countLineBreaks(text: string): number {
    // Quotes do not matter here: every physical line break counts, CRLF once.
    return text.match(/\r\n|\r|\n/g)?.length ?? 0;
  }

  function oracle(text: string, delimiter: string): string[][] {
    return parse(text, {
      delimiter,
      quote: '"',
      escape: '"',
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      bom: false,
    });
  }

  it.each([
    [1, ','],
    [2, ','],
    [3, ';'],
    [4, '\t'],
  ])('matches csv-parse record for record on generated input (seed %i, delimiter %j)', (seed, delimiter) => {
    const { text, lines } = generate(seed, 1000, delimiter);
    const expected = oracle(text, delimiter);
    expect(expected).toHaveLength(1000);
    const random = seeded(seed * 31);
    for (const maxPiece of [1, 7, 64, 4096]) {
      const records = tokenize(randomPieces(text, random, maxPiece), { delimiter, quote: '"' });
      expect(fieldsOf(records)).toEqual(expected);
      expect(linesOf(records)).toEqual(lines);
    }
  });
});
