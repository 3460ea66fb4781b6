import { describe, expect, it } from '@jest/globals';
import {
  DIALECT_SAMPLE_CHARS,
  detectDialect,
  parseDelimiterOption,
  parseQuoteOption,
} from '../../src/sources/csv-dialect.js';

const whole = { isWholeInput: true };

describe('detectDialect', () => {
  it.each([
    [',', 'id,name,city\n1,Ann,Oslo\n2,Bob,Rome\n'],
    [';', 'id;name;city\n1;Ann;Oslo\n2;Bob;Rome\n'],
    ['\t', 'id\tname\tcity\n1\tAnn\tOslo\n2\tBob\tRome\n'],
    ['|', 'id|name|city\n1|Ann|Oslo\n2|Bob|Rome\n'],
  ])('detects %j as the delimiter', (delimiter, sample) => {
    expect(detectDialect(sample, {}, whole)).toEqual({ delimiter, quote: '"' });
  });

  it('prefers the delimiter whose count is the same in every record over a more frequent one', () => {
    // Decimal commas: more commas than semicolons overall, but a different number per line.
    const sample = 'name;price;note\nA;1,5;x,y,z\nB;2,25;p\nC;3;q,r\n';
    expect(detectDialect(sample, {}, whole).delimiter).toBe(';');
  });

  it('does not count delimiters inside quoted fields', () => {
    const sample = 'a;b\n"x,y,z";1\n"p,q";2\n"r";3\n';
    expect(detectDialect(sample, {}, whole).delimiter).toBe(';');
  });

  it('breaks a tie in consistency by frequency', () => {
    expect(detectDialect('a;b;c,d\n1;2;3,4\n', {}, whole).delimiter).toBe(';');
  });

  it('breaks a full tie by the order , ; tab |', () => {
    expect(detectDialect('a|b;c\n1|2;3\n', {}, whole).delimiter).toBe(';');
    expect(detectDialect('a;b,c\n1;2,3\n', {}, whole).delimiter).toBe(',');
  });

  it('falls back to a comma for a single-column file', () => {
    expect(detectDialect('name\nAnn\nBob\n', {}, whole)).toEqual({ delimiter: ',', quote: '"' });
    expect(detectDialect('', {}, whole)).toEqual({ delimiter: ',', quote: '"' });
  });

  it('ignores a last line cut off by the sample limit unless the sample is the whole input', () => {
    // Complete lines tie (one ; and one | each), so ; wins by order; the cut-off line lacks a ;.
    const sample = 'a;b|c\n1;2|3\n4;5|6\n7|8';
    expect(detectDialect(sample, {})).toEqual({ delimiter: ';', quote: '"' });
    // Read as complete, that last line makes | the more consistent candidate.
    expect(detectDialect(sample, {}, whole).delimiter).toBe('|');
  });

  it('looks only at the first 64 KiB of the sample', () => {
    // Ten long ;-lines fill the first 64 KiB; the ,-lines after them would win if they counted.
    const line = `a;${'x'.repeat(6551)}\n`;
    const head = line.repeat(10);
    expect(head.length).toBeGreaterThan(DIALECT_SAMPLE_CHARS);
    const tail = '1,2,3\n'.repeat(40);
    expect(detectDialect(head + tail, {}, whole).delimiter).toBe(';');
    expect(detectDialect(line.repeat(9) + tail, {}, whole).delimiter).toBe(',');
  });

  it('looks at no more than about 50 records', () => {
    const sample = 'a,b\n'.repeat(50) + 'a;b;c\n'.repeat(200);
    expect(detectDialect(sample, {}, whole).delimiter).toBe(',');
  });

  it('picks a single quote only when fields are wrapped in it and never in double quotes', () => {
    expect(detectDialect("'id','name'\n'1','Ann, B.'\n", {}, whole)).toEqual({ delimiter: ',', quote: "'" });
    expect(detectDialect("'id','name'\n\"1\",'x'\n", {}, whole).quote).toBe('"');
    expect(detectDialect("name,said\nO'Brien,it's fine\nD'Arcy,ok\n", {}, whole).quote).toBe('"');
  });

  it('lets given values win over detection', () => {
    expect(detectDialect('a;b\n1;2\n', { delimiter: '|' }, whole)).toEqual({ delimiter: '|', quote: '"' });
    expect(detectDialect("'a','b'\n'1','2'\n", { quote: '"' }, whole).quote).toBe('"');
    expect(detectDialect('a,b\n', { quote: null }, whole)).toEqual({ delimiter: ',', quote: null });
  });

  it('counts delimiters inside quote characters when quoting is turned off', () => {
    const sample = '"a,b,c";d\n"e,f,g";h\n';
    expect(detectDialect(sample, { quote: null }, whole).delimiter).toBe(',');
    expect(detectDialect(sample, {}, whole).delimiter).toBe(';');
  });

  it('refuses a delimiter equal to the quote', () => {
    expect(() => detectDialect('a,b\n', { delimiter: '"' }, whole)).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
  });
});

describe('parseDelimiterOption', () => {
  it.each([
    [',', ','],
    [';', ';'],
    ['|', '|'],
    ['tab', '\t'],
    ['TAB', '\t'],
    ['\t', '\t'],
    ['\\t', '\t'],
    [':', ':'],
  ])('reads %j as %j', (input, expected) => {
    expect(parseDelimiterOption(input)).toBe(expected);
  });

  it.each(['', ',,', 'comma', '\n', '\r', '😀'])('refuses %j with a usage error', (input) => {
    expect(() => parseDelimiterOption(input)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('parseQuoteOption', () => {
  it('reads one character as the quote and the empty string as no quoting', () => {
    expect(parseQuoteOption('"')).toBe('"');
    expect(parseQuoteOption("'")).toBe("'");
    expect(parseQuoteOption('')).toBeNull();
  });

  it.each(['""', 'none', '\n'])('refuses %j with a usage error', (input) => {
    expect(() => parseQuoteOption(input)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
