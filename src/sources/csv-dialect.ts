// Chooses a CSV file's delimiter and quote character from a sample of its first lines, and
// parses the --delimiter and --quote options. Given values always win over detection.

import { UsageError } from '../errors.js';
import { CsvTokenizer } from './csv-tokenizer.js';
import type { CsvDialect, CsvRecord } from './csv-tokenizer.js';

/** What the user fixed on the command line; `quote: null` means no quoting at all. */
export interface GivenDialect {
  delimiter?: string | undefined;
  quote?: string | null | undefined;
}

export interface DetectDialectOptions {
  /** The sample is the whole input, so its last line counts even without a line break. */
  isWholeInput?: boolean | undefined;
}

// Candidate delimiters, in tie-break order.
const DELIMITER_CANDIDATES: readonly string[] = [',', ';', '\t', '|'];

/** Detection looks at no more than this many characters from the start of the input. */
export const DIALECT_SAMPLE_CHARS = 64 * 1024;

const SAMPLE_RECORDS = 50;
const DEFAULT_DELIMITER = ',';
const DEFAULT_QUOTE = '"';

/**
 * Picks the delimiter among `,` `;` tab `|`: the candidate that appears in every sampled record
 * the same number of times (outside quotes) wins; ties go to the more frequent, then to the
 * order above; a file with none of them is single-column and gets `,`. The quote is `"` unless
 * fields are wrapped in `'` and never in `"`. Only complete lines of the first 64 KiB count.
 */
export function detectDialect(
  sample: string,
  given: GivenDialect = {},
  options: DetectDialectOptions = {},
): CsvDialect {
  const whole = options.isWholeInput === true && sample.length <= DIALECT_SAMPLE_CHARS;
  const text = sample.length > DIALECT_SAMPLE_CHARS ? sample.slice(0, DIALECT_SAMPLE_CHARS) : sample;
  const quote = given.quote !== undefined ? given.quote : detectQuote(text);
  const delimiter = given.delimiter ?? detectDelimiter(text, quote, whole);
  if (delimiter === quote) {
    throw new UsageError(`the delimiter and the quote are both ${JSON.stringify(delimiter)}; they must differ`, {
      hint: 'pass --delimiter or --quote explicitly',
    });
  }
  return { delimiter, quote };
}

interface Candidate {
  delimiter: string;
  consistency: number;
  total: number;
  order: number;
}

function detectDelimiter(text: string, quote: string | null, whole: boolean): string {
  let best: Candidate | undefined;
  DELIMITER_CANDIDATES.forEach((delimiter, order) => {
    if (delimiter === quote) return;
    const counts = sampleRecords(text, { delimiter, quote }, whole).map((r) => r.fields.length - 1);
    const mode = modeOf(counts);
    if (mode === undefined || mode.value === 0) return;
    const candidate: Candidate = {
      delimiter,
      consistency: mode.times / counts.length,
      total: counts.reduce((sum, c) => sum + c, 0),
      order,
    };
    if (best === undefined || isBetter(candidate, best)) best = candidate;
  });
  return best?.delimiter ?? DEFAULT_DELIMITER;
}

function isBetter(a: Candidate, b: Candidate): boolean {
  if (a.consistency !== b.consistency) return a.consistency > b.consistency;
  if (a.total !== b.total) return a.total > b.total;
  return a.order < b.order;
}

// Records as this dialect would read them. A malformed sample (for this candidate) keeps the
// records read before the error: a wrong candidate often fails early and so scores low.
function sampleRecords(text: string, dialect: CsvDialect, whole: boolean): CsvRecord[] {
  const tokenizer = new CsvTokenizer(dialect);
  const records: CsvRecord[] = [];
  try {
    tokenizer.push(text);
    // Without end(), a last line cut off by the sample limit is never returned.
    if (whole) tokenizer.end();
  } catch {
    // fall through with what was complete
  }
  for (const record of tokenizer.takeRecords()) {
    if (records.length >= SAMPLE_RECORDS) break;
    records.push(record);
  }
  return records;
}

function modeOf(values: readonly number[]): { value: number; times: number } | undefined {
  const tally = new Map<number, number>();
  for (const v of values) tally.set(v, (tally.get(v) ?? 0) + 1);
  let best: { value: number; times: number } | undefined;
  for (const [value, times] of tally) {
    if (best === undefined || times > best.times || (times === best.times && value > best.value)) {
      best = { value, times };
    }
  }
  return best;
}

const FIELD_EDGE = '(?:^|[,;\\t|])';
const FIELD_END = '(?=[,;\\t|\\r\\n]|$)';
const SINGLE_WRAPPED = new RegExp(`${FIELD_EDGE}'[^'\\r\\n]*'${FIELD_END}`, 'gm');
const DOUBLE_OPENING = new RegExp(`${FIELD_EDGE}"`, 'm');

// A single quote is common inside text (O'Brien, it's), so it is chosen only when several fields
// are visibly wrapped in it and no field even starts with a double quote.
function detectQuote(text: string): string {
  if (DOUBLE_OPENING.test(text)) return DEFAULT_QUOTE;
  const wrapped = text.match(SINGLE_WRAPPED)?.length ?? 0;
  return wrapped >= 2 ? "'" : DEFAULT_QUOTE;
}

/**
 * Parses `--delimiter`: `,` `;` `|`, `tab`, a tab character, the two characters `\t`, or any
 * other single character except a line break.
 */
export function parseDelimiterOption(value: string): string {
  if (value === '\t' || value === '\\t' || value.toLowerCase() === 'tab') return '\t';
  if (value.length === 1 && value !== '\n' && value !== '\r') return value;
  throw new UsageError(`invalid --delimiter ${JSON.stringify(value)}`, {
    hint: 'use one character, for example , ; | or tab',
  });
}

/** Parses `--quote`: one character, or the empty string for no quoting (returned as null). */
export function parseQuoteOption(value: string): string | null {
  if (value === '') return null;
  if (value.length === 1 && value !== '\n' && value !== '\r') return value;
  throw new UsageError(`invalid --quote ${JSON.stringify(value)}`, {
    hint: `use one character such as " or ', or '' to turn quoting off`,
  });
}
