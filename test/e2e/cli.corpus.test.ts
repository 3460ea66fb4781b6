// Runs `mstrpush create` as a process against the emulator on three corpora and compares every
// published cell with an expectation written independently of the code: csv-spectrum, the
// hand-written fixtures/csv/cli cases, and a seeded 300-column file.

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ColumnSchema } from '../../src/schema/types.js';
import { jsonResult, makeSandbox, repoRoot, runCli, sharedDir, useEmulator } from '../helpers/cli.js';
import { COLUMN_KINDS, KIND_TYPES, firstDifference, generateCsv } from '../helpers/seeded-csv.js';
import type { ColumnSpec, PublishedCell } from '../helpers/seeded-csv.js';

const emulator = useEmulator();
const scratch = makeSandbox();
afterAll(() => scratch.cleanup());

interface CreateResult {
  datasetId: string;
  published: boolean;
  tables: { name: string; rows: number; chunks: number; columns: ColumnSchema[] }[];
}

async function create(file: string, name: string, extraArgs: readonly string[] = []): Promise<CreateResult> {
  return jsonResult<CreateResult>(
    await runCli(['create', file, '--name', name, '--json', '--quiet', '--poll-interval', '20ms', ...extraArgs], { env: emulator.env() }),
  );
}

/** The only table of a dataset as the emulator stored it at publish. */
function publishedTable(datasetId: string) {
  const inspection = emulator.current().state.inspectDataset(datasetId);
  if (inspection === undefined) throw new Error(`no dataset ${datasetId}`);
  expect(inspection.tables).toHaveLength(1);
  const table = inspection.tables[0]!;
  if (table.rows === undefined) throw new Error('the emulator kept no rows');
  return { ...table, rows: table.rows };
}

/** The stored column types and roles, in the shape the CLI reports them. */
function storedColumns(table: { columns: { name: string; dataType: string; role: string }[] }): ColumnSchema[] {
  return table.columns.map((c) => ({ name: c.name, type: c.dataType, role: c.role }) as ColumnSchema);
}

describe('mstrpush create on the csv-spectrum corpus', () => {
  const spectrumDir = path.join(sharedDir, 'corpus', 'csv-spectrum');
  const cases = readdirSync(path.join(spectrumDir, 'csvs'))
    .filter((name) => name.endsWith('.csv'))
    .map((name) => name.slice(0, -4))
    .sort();

  // Types from the documented rules: any non-integer text makes a column STRING; with only
  // NULL as a null token an empty string is text too. `key` names an identifier, so it is an
  // attribute; other integer columns are metrics.
  const I = (name: string): ColumnSchema => ({ name, type: 'INTEGER', role: 'metric' });
  const S = (name: string): ColumnSchema => ({ name, type: 'STRING', role: 'attribute' });
  const expectedColumns: Record<string, ColumnSchema[]> = {
    comma_in_quotes: [S('first'), S('last'), S('address'), S('city'), S('zip')],
    empty: [I('a'), S('b'), S('c')],
    empty_crlf: [I('a'), S('b'), S('c')],
    escaped_quotes: [I('a'), S('b')],
    json: [{ name: 'key', type: 'INTEGER', role: 'attribute' }, S('val')],
    newlines: [S('a'), I('b'), I('c')],
    newlines_crlf: [S('a'), I('b'), I('c')],
    quotes_and_newlines: [I('a'), S('b')],
    simple: [I('a'), I('b'), I('c')],
    simple_crlf: [I('a'), I('b'), I('c')],
    utf8: [I('a'), I('b'), S('c')],
  };

  it('has an expectation for every case of the corpus', () => {
    expect(cases).toEqual(Object.keys(expectedColumns).sort());
  });

  async function checkCase(file: string, name: string, expected: Record<string, string>[], columns: ColumnSchema[]) {
    const out = await create(file, name, ['--null-values', 'NULL']);
    expect(out.published).toBe(true);
    expect(out.tables[0]!.columns).toEqual(columns);
    const names = Object.keys(expected[0]!);
    expect(columns.map((c) => c.name)).toEqual(names);
    const table = publishedTable(out.datasetId);
    expect(storedColumns(table)).toEqual(columns);
    expect(table.rowCount).toBe(expected.length);
    // All expected values are strings; numbers are published as their exact source text.
    expect(table.rows).toEqual(expected.map((record) => names.map((n) => record[n])));
  }

  it.each(cases)('publishes %s.csv cell for cell as its JSON twin lists it', async (name) => {
    const file = path.join(spectrumDir, 'csvs', `${name}.csv`);
    const expected = JSON.parse(readFileSync(path.join(spectrumDir, 'json', `${name}.json`), 'utf8')) as Record<string, string>[];
    const columns = expectedColumns[name]!;
    const raw = readFileSync(file, 'utf8');
    if (name.endsWith('_crlf') && !raw.includes('\r')) {
      // This copy of the corpus lost the CRLF endings of its *_crlf files: check the file as it
      // is (LF inside quotes) and a copy with the CRLF endings restored (CRLF inside quotes).
      const lf = expected.map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.replaceAll('\r\n', '\n')])));
      await checkCase(file, `spectrum ${name}`, lf, columns);
      const restored = path.join(scratch.dir, `${name}.csv`);
      writeFileSync(restored, raw.replaceAll('\n', '\r\n'));
      await checkCase(restored, `spectrum ${name} restored`, expected, columns);
      return;
    }
    await checkCase(file, `spectrum ${name}`, expected, columns);
  });
});

interface FixtureExpectation {
  /** Extra CLI arguments. */
  args: string[];
  /** Gzip the committed CSV into the sandbox and load the .csv.gz instead. */
  gzip?: boolean;
  columns: ColumnSchema[];
  rows: PublishedCell[][];
}

describe('mstrpush create on the fixture corpus', () => {
  const fixturesDir = path.join(repoRoot, 'fixtures', 'csv', 'cli');
  const cases = readdirSync(fixturesDir)
    .filter((name) => name.endsWith('.csv'))
    .map((name) => name.slice(0, -4))
    .sort();

  it('finds every case of the corpus', () => {
    expect(cases.length).toBeGreaterThanOrEqual(21);
    for (const name of cases) expect(readdirSync(fixturesDir)).toContain(`${name}.expected.json`);
  });

  it.each(cases)('publishes fixtures/csv/cli/%s.csv as its expected twin says', async (name) => {
    const expected = JSON.parse(readFileSync(path.join(fixturesDir, `${name}.expected.json`), 'utf8')) as FixtureExpectation;
    let file = path.join(fixturesDir, `${name}.csv`);
    if (expected.gzip === true) {
      const gz = path.join(scratch.dir, `${name}.csv.gz`);
      writeFileSync(gz, gzipSync(readFileSync(file)));
      file = gz;
    }
    const out = await create(file, `fixture ${name}`, expected.args);
    expect(out.published).toBe(true);
    expect(out.tables).toHaveLength(1);
    expect(out.tables[0]).toMatchObject({ name, rows: expected.rows.length, chunks: 1 });
    expect(out.tables[0]!.columns).toEqual(expected.columns);
    const table = publishedTable(out.datasetId);
    expect(table.name).toBe(name);
    expect(storedColumns(table)).toEqual(expected.columns);
    expect(table.rows).toEqual(expected.rows);
  });
});

describe('mstrpush create on a wide generated file', () => {
  it('publishes 300 columns of every kind by 50 rows, every cell as generated', async () => {
    const specs: ColumnSpec[] = Array.from({ length: 300 }, (_, i) => {
      const kind = COLUMN_KINDS[i % COLUMN_KINDS.length]!;
      return { name: `col_${String(i + 1).padStart(3, '0')}_${kind}`, kind, nullRate: 0.15 };
    });
    const generated = generateCsv(300, 50, specs);
    const file = path.join(scratch.dir, 'wide.csv');
    writeFileSync(file, generated.text);

    const out = await create(file, 'wide');
    const numeric = new Set(['INTEGER', 'BIGINTEGER', 'DOUBLE', 'BIGDECIMAL']);
    const columns = specs.map((s) => {
      const type = KIND_TYPES[s.kind];
      return { name: s.name, type, role: numeric.has(type) ? 'metric' : 'attribute' };
    });
    expect(out.tables[0]!.columns).toEqual(columns);
    expect(out.tables[0]!.rows).toBe(50);
    const table = publishedTable(out.datasetId);
    expect(table.rowCount).toBe(50);
    expect(table.rows).toHaveLength(50);
    expect(firstDifference(table.rows, generated.rows)).toBeUndefined();
    expect(table.rows).toEqual(generated.rows);
  });
});
