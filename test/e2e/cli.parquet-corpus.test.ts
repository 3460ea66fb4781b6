// Conformance: every file of apache/parquet-testing through `mstrpush schema` and a push to the
// emulator. A file either arrives cell for cell as the independent reading has it, or is refused
// with a clear error (exit 4) for a documented reason. The valid files run through the CLI's
// entry function in this process, for speed; the malformed ones each run in a child process with
// a time limit, so a crash or a hang fails the test and not the test run. Set
// PARQUET_CONFORMANCE_TABLE to a path to get the resulting table as Markdown.

import { readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { parquetMetadataAsync, parquetSchema } from 'hyparquet';
import type { AsyncBuffer } from 'hyparquet';
import { run as runMain } from '../../src/cli/main.js';
import { planParquetColumns } from '../../src/sources/parquet-schema.js';
import { envFor, jsonResult, makeSandbox, runCli, useEmulator } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { corpusBadDir, corpusDataDir, corpusEntries, differences } from '../helpers/parquet-corpus.js';
import type { Cell, CorpusEntry } from '../helpers/parquet-corpus.js';

const emulator = useEmulator();
const FILE_TIMEOUT_MS = 30_000;
const table: { file: string; outcome: string; reason: string }[] = [];

afterAll(() => {
  const out = process.env.PARQUET_CONFORMANCE_TABLE;
  if (!out) return;
  const lines = ['| file | outcome | reason |', '| --- | --- | --- |', ...table.map((r) => `| \`${r.file}\` | ${r.outcome} | ${r.reason.replaceAll('|', '\\|')} |`)];
  writeFileSync(out, `${lines.join('\n')}\n`);
});

const home = makeSandbox();
afterAll(() => home.cleanup());

/** `mstrpush args` in a child process with a time limit. */
function spawnRun(args: readonly string[], server = false): Promise<CliResult> {
  return runCli([...args, '--quiet'], { timeoutMs: FILE_TIMEOUT_MS, ...(server ? { env: emulator.env() } : {}) });
}

/** `mstrpush args` through the CLI's entry function, with captured streams, in an empty sandbox. */
async function run(args: readonly string[], server = false): Promise<CliResult> {
  const capture = () => {
    const stream = new PassThrough();
    let text = '';
    stream.setEncoding('utf8').on('data', (d: string) => (text += d));
    return { stream, text: () => text };
  };
  const stdout = capture();
  const stderr = capture();
  // `schema` has no --no-config; it finds none in the empty sandbox.
  const code = await runMain([...args, '--quiet', ...(server ? ['--no-config'] : [])], {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin: Readable.from([]),
    env: { HOME: home.dir, XDG_CONFIG_HOME: path.join(home.dir, '.config'), ...(server ? envFor(emulator.current()) : {}) },
    cwd: home.dir,
    onSignals: () => () => {},
    exit: (exitCode) => {
      throw new Error(`the CLI tried to exit with ${exitCode}`);
    },
  });
  await new Promise((resolve) => setImmediate(resolve));
  return { code, signal: null, stdout: stdout.text(), stderr: stderr.text() };
}

/** The error line of a refused run: exit 4, one `error:` line naming the file, no stack trace. */
function refusal(result: CliResult, file: string): string {
  expect({ code: result.code, signal: result.signal }).toEqual({ code: 4, signal: null });
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/^\s+at /m);
  const line = result.stderr.split('\n').find((l) => l.startsWith('mstrpush: error: '));
  expect(line).toBeDefined();
  expect(line!.startsWith(`mstrpush: error: ${file}`)).toBe(true);
  return line!.slice(`mstrpush: error: ${file}`.length).replace(/^(:\d+)?: /, '');
}

function wayOutArgs(wayOut: CorpusEntry['wayOut']): string[] {
  return [...(wayOut?.exclude ?? []).flatMap((name) => ['--exclude', name]), ...(wayOut?.binaryAsString ? ['--binary-as-string'] : [])];
}

function describeWayOut(wayOut: CorpusEntry['wayOut']): string {
  const parts = [];
  if (wayOut?.exclude?.length) parts.push(`\`--exclude\` ${wayOut.exclude.map((n) => `\`${n}\``).join(', ')}`);
  if (wayOut?.binaryAsString) parts.push('`--binary-as-string`');
  return parts.join(' and ');
}

interface Published {
  datasetId: string;
  tables: { name: string; rows: number; columns: { name: string; type: string }[] }[];
}

/** Creates a dataset from `file` and returns its only table as stored, BOOL cells as text again. */
async function push(file: string, args: readonly string[], runner = run): Promise<{ columns: string[]; types: string[]; rows: Cell[][] }> {
  const out = jsonResult<Published>(await runner(['create', file, '--name', `corpus ${path.basename(file)}`, '--json', '--poll-interval', '20ms', ...args], true));
  const stored = emulator.current().state.inspectDataset(out.datasetId)!.tables;
  expect(stored).toHaveLength(1);
  const rows = stored[0]!.rows!.map((row) => row.map((cell) => (typeof cell === 'boolean' ? String(cell) : cell)));
  return { columns: stored[0]!.columns.map((c) => c.name), types: stored[0]!.columns.map((c) => c.dataType), rows };
}

function referenceNote(entry: CorpusEntry): string {
  const source = entry.reference!.source;
  if (source === 'expect.csv') return 'equal to the corpus’s `_expect.csv`';
  if (source === 'duckdb') return 'equal to DuckDB’s reading';
  return `equal to the ${source.replace('duckdb reading of', 'DuckDB reading of')} (DuckDB cannot read this file)`;
}

describe('mstrpush on parquet-testing/data', () => {
  const entries = corpusEntries();

  it('covers every file of the corpus', () => {
    expect(entries.map((e) => e.file)).toEqual(readdirSync(corpusDataDir).filter((f) => f.endsWith('.parquet')).sort());
  });

  it.each(entries.map((e) => [e.file, e] as const))('handles %s as documented', async (name, entry: CorpusEntry) => {
    const file = path.join(corpusDataDir, name);
    const refusedByDefault = entry.refused === 'all' || entry.refused.length > 0;
    const schema = await run(['schema', file, '--json']);
    let defaultReason = '';
    if (refusedByDefault) {
      defaultReason = refusal(schema, file);
      expect(defaultReason).toMatch(/^cannot load columns? /);
    } else if (entry.valueError === undefined) {
      expect(schema.code).toBe(0);
      expect(jsonResult<{ tables: { rows: number }[] }>(schema).tables[0]!.rows).toBe(entry.reference!.rowCount);
    }

    if (entry.reference === undefined || entry.wayOutError !== undefined) {
      if (entry.wayOutError) {
        const reason = refusal(await run(['schema', file, ...wayOutArgs(entry.wayOut)]), file);
        table.push({ file: name, outcome: 'refused', reason: `${defaultReason}; with ${describeWayOut(entry.wayOut)}: ${reason}` });
      } else {
        table.push({ file: name, outcome: 'refused', reason: `${defaultReason} (no flat column left to load)` });
      }
      return;
    }

    const args = wayOutArgs(entry.wayOut);
    if (entry.valueError) {
      const { line, column } = entry.valueError;
      const result = await run(['create', file, '--name', `corpus ${name}`, ...args], true);
      const reason = refusal(result, file);
      expect(result.stderr).toContain(`mstrpush: error: ${file}:${line}: column ${JSON.stringify(column)}: `);
      expect(refusal(schema, file)).toBe(reason);
      table.push({ file: name, outcome: 'refused', reason: `row ${line}: ${reason}` });
      return;
    }

    const pushed = await push(file, args);
    expect(differences(entry, pushed.columns, pushed.types, pushed.rows)).toEqual([]);
    const count = (n: number, noun: string) => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
    const shape = `${count(pushed.rows.length, 'row')} × ${count(pushed.columns.length, 'column')}`;
    if (refusedByDefault) {
      table.push({ file: name, outcome: `loaded with ${describeWayOut(entry.wayOut)}`, reason: `${shape}, ${referenceNote(entry)}; by default: ${defaultReason}` });
    } else {
      table.push({ file: name, outcome: 'loaded', reason: `${shape}, ${referenceNote(entry)}` });
    }
  });
});

describe('mstrpush on parquet-testing/bad_data', () => {
  const files = readdirSync(corpusBadDir).filter((f) => f.endsWith('.parquet')).sort();

  /** Columns refused by default, and those still refused when BINARY is read as text; the footer may itself be unreadable. */
  async function refusedColumns(file: string): Promise<{ byDefault: string[]; asText: string[] }> {
    try {
      const bytes = await readFile(file);
      const buffer: AsyncBuffer = { byteLength: bytes.length, slice: (s, e) => new Uint8Array(bytes.subarray(s, e)).buffer };
      const root = parquetSchema(await parquetMetadataAsync(buffer));
      const refused = (binaryAsString: boolean) =>
        planParquetColumns(root, { binaryAsString }).filter((p) => p.refused === true).map((p) => p.name);
      return { byDefault: refused(false), asText: refused(true) };
    } catch {
      return { byDefault: [], asText: [] };
    }
  }

  it('has the eight files this test documents', () => {
    expect(files).toEqual([
      'ARROW-GH-41317.parquet',
      'ARROW-GH-41321.parquet',
      'ARROW-GH-43605.parquet',
      'ARROW-GH-45185.parquet',
      'ARROW-GH-47662.parquet',
      'ARROW-RS-GH-6229-DICTHEADER.parquet',
      'ARROW-RS-GH-6229-LEVELS.parquet',
      'PARQUET-1481.parquet',
    ]);
  });

  it('loads ARROW-GH-43605 as the 21,186 zeros it holds: a one-entry dictionary has index bit width 0', async () => {
    const name = 'ARROW-GH-43605.parquet';
    const pushed = await push(path.join(corpusBadDir, name), [], spawnRun);
    expect(pushed.columns).toEqual(['min_fl']);
    expect(pushed.rows).toHaveLength(21186);
    expect(pushed.rows.every((row) => row[0] === '0')).toBe(true);
    table.push({ file: `bad_data/${name}`, outcome: 'loaded', reason: '21,186 rows of 0, as DuckDB reads it: its dictionary has one entry, for which index bit width 0 is right (the file crashed Arrow’s Go reader)' });
  });

  it.each(files.filter((f) => f !== 'ARROW-GH-43605.parquet'))('refuses %s with a clear error and exit 4, also with every way out', async (name) => {
    const file = path.join(corpusBadDir, name);
    const [schema, create] = await Promise.all([spawnRun(['schema', file]), spawnRun(['create', file, '--name', `bad ${name}`], true)]);
    const reason = refusal(schema, file);
    expect(refusal(create, file)).toBe(reason);
    expect(emulator.current().state.findDatasetId(`bad ${name}`)).toBeUndefined();
    let detail = reason;
    const refused = await refusedColumns(file);
    if (refused.byDefault.length > 0) {
      const wayOut = await spawnRun(['schema', file, ...refused.asText.flatMap((c) => ['--exclude', c]), '--binary-as-string']);
      // Excluding every column is a usage error (exit 2); otherwise the damage itself shows.
      if (wayOut.code === 2) {
        detail = `${reason} (no flat column left to load)`;
      } else {
        detail = `${reason}; with the nested columns excluded and BINARY read as text: ${refusal(wayOut, file)}`;
      }
    }
    table.push({ file: `bad_data/${name}`, outcome: 'refused', reason: detail });
  });
});
