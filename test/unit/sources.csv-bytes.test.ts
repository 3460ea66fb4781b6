import { CsvByteTokenizer, CsvFastPathExit, FIELD_ESCAPED } from '../../src/sources/csv-bytes.js';
import { CsvTokenizer } from '../../src/sources/csv-tokenizer.js';
import type { CsvDialect } from '../../src/sources/csv-tokenizer.js';
import { createRandom as seeded } from '../helpers/seeded-csv.js';


const WORDS = ['', 'a', 'bc', '12', '-3.5', 'é', '東京', ' ', 'x y'];

/** A well-formed CSV text of `width` columns, with every kind of quoting and line break. */
function csvText(random: () => number, dialect: CsvDialect, width: number): string {
  const q = dialect.quote ?? '';
  const breaks = ['\n', '\r\n', '\r'];
  const rows: string[] = [];
  for (let r = 0; r < 40; r++) {
    const cells = Array.from({ length: width }, () => {
      const word = WORDS[Math.floor(random() * WORDS.length)]!;
      if (q === '' || random() < 0.6) return word.includes(dialect.delimiter) ? 'z' : word;
      const inner = random() < 0.5 ? `${word}${q}${q}${dialect.delimiter}${breaks[Math.floor(random() * 3)]}${word}` : word;
      return `${q}${inner}${q}`;
    });
    rows.push(cells.join(dialect.delimiter));
    if (random() < 0.1) rows.push('');
  }
  const lineBreak = breaks[Math.floor(random() * 3)]!;
  return rows.join(lineBreak) + (random() < 0.5 ? lineBreak : '');
}

function slowRecords(text: string, dialect: CsvDialect): Array<{ fields: string[]; line: number }> {
  const tokenizer = new CsvTokenizer(dialect);
  tokenizer.push(text);
  tokenizer.end();
  return tokenizer.takeRecords();
}

function byteRecords(bytes: Buffer, dialect: CsvDialect, width: number, random: () => number) {
  const tokenizer = new CsvByteTokenizer(dialect, width);
  const records: Array<{ fields: string[]; line: number }> = [];
  const doubled = (dialect.quote ?? '') + (dialect.quote ?? '');
  const onRecord = (buf: Buffer, line: number) => {
    const fields: string[] = [];
    for (let f = 0; f < width; f++) {
      const text = buf.toString('utf8', tokenizer.starts[f], tokenizer.ends[f]);
      fields.push((tokenizer.flags[f]! & FIELD_ESCAPED) !== 0 ? text.replaceAll(doubled, dialect.quote!) : text);
    }
    records.push({ fields, line });
  };
  // Pieces of 1 to 12 bytes: every boundary falls somewhere awkward at least once.
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * 12);
    tokenizer.push(bytes.subarray(at, at + size), onRecord);
    at += size;
  }
  tokenizer.end(onRecord);
  return records;
}

describe('CsvByteTokenizer', () => {
  const dialects: CsvDialect[] = [
    { delimiter: ',', quote: '"' },
    { delimiter: ';', quote: "'" },
    { delimiter: '\t', quote: '"' },
    { delimiter: '|', quote: null },
  ];

  it.each(dialects.map((d) => [JSON.stringify(d), d] as const))('finds the same records and lines as CsvTokenizer, whatever the chunking (%s)', (_, dialect) => {
    const random = seeded(99);
    for (let round = 0; round < 40; round++) {
      const width = 1 + Math.floor(random() * 4);
      const text = csvText(random, dialect, width);
      const expected = slowRecords(text, dialect);
      expect(byteRecords(Buffer.from(text, 'utf8'), dialect, width, random)).toEqual(expected);
    }
  });

  it.each([
    ['a record with a field too many', 'a,b\n1,2,3\n'],
    ['a record with a field too few', 'a,b\n1\n'],
    ['an unterminated quote', 'a,b\n"1,2\n'],
    ['text after a closing quote', 'a,b\n"1"x,2\n'],
  ])('hands over to the string tokenizer at %s', (_, text) => {
    const tokenizer = new CsvByteTokenizer({ delimiter: ',', quote: '"' }, 2);
    let records = 0;
    const run = () => {
      tokenizer.push(Buffer.from(text), () => records++);
      tokenizer.end(() => records++);
    };
    expect(run).toThrow(CsvFastPathExit);
    expect(records).toBe(1);
  });

  it('hands over when a record outgrows the size limit', () => {
    const tokenizer = new CsvByteTokenizer({ delimiter: ',', quote: '"' }, 1, { maxRecordBytes: 100 });
    expect(() => tokenizer.push(Buffer.from(`"${'x'.repeat(200)}`), () => {})).toThrow(CsvFastPathExit);
  });

  it('refuses a delimiter or quote of more than one byte', () => {
    expect(() => new CsvByteTokenizer({ delimiter: '§', quote: '"' }, 1)).toThrow(CsvFastPathExit);
  });
});
