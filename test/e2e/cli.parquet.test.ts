// `mstrpush` on Parquet files written here, as a process against the emulator: every type arrives
// cell for cell, the schema comes from the file, overrides and --exclude work as for CSV, and
// Parquet and CSV files load as tables of one dataset.

import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ColumnSchema } from '../../src/schema/types.js';
import { jsonResult, makeSandbox, runCli, useEmulator } from '../helpers/cli.js';
import { expectedRows, generateTypeMatrix, writeParquetFile } from '../helpers/parquet-files.js';
import type { ExpectedCell, GeneratedColumn } from '../helpers/parquet-files.js';

const emulator = useEmulator();
const scratch = makeSandbox();
afterAll(() => scratch.cleanup());

const NUMERIC = new Set(['INTEGER', 'BIGINTEGER', 'DOUBLE', 'BIGDECIMAL']);

interface TableResult {
  name: string;
  rows: number;
  columns: ColumnSchema[];
}

function storedTable(datasetId: string, name: string) {
  const table = emulator.current().state.inspectDataset(datasetId)?.tables.find((t) => t.name === name);
  if (table?.rows === undefined) throw new Error(`no stored rows for table ${name}`);
  return { ...table, rows: table.rows };
}

/** The emulator stores BOOL cells as JSON booleans and everything else as the text sent. */
function published(rows: readonly ExpectedCell[][], types: readonly string[]): (string | boolean | null)[][] {
  return rows.map((row) => row.map((cell, c) => (cell !== null && types[c] === 'BOOL' ? cell === 'true' : cell)));
}

async function create(files: readonly string[], name: string, extra: readonly string[] = []) {
  return jsonResult<{ datasetId: string; published: boolean; tables: TableResult[] }>(
    await runCli(['create', ...files, '--name', name, '--json', '--quiet', '--poll-interval', '20ms', ...extra], { env: emulator.env() }),
  );
}

describe('mstrpush create on a Parquet file with every type', () => {
  const columns = generateTypeMatrix(240, 424242);
  const file = path.join(scratch.dir, 'every_type.parquet');
  beforeAll(() => writeParquetFile(file, columns, { codec: 'GZIP', rowGroupSize: 64 }));

  const expectedSchema = (cols: readonly GeneratedColumn[]): ColumnSchema[] =>
    cols.map((c) => ({ name: c.element.name, type: c.wireType as ColumnSchema['type'], role: NUMERIC.has(c.wireType) ? 'metric' : 'attribute' }));

  it('publishes every cell as the exact text of its declared type', async () => {
    const out = await create([file], 'parquet every type');
    expect(out.published).toBe(true);
    expect(out.tables).toEqual([expect.objectContaining({ name: 'every_type', rows: 240 })]);
    expect(out.tables[0]!.columns).toEqual(expectedSchema(columns));
    const table = storedTable(out.datasetId, 'every_type');
    expect(table.columns.map((c) => c.dataType)).toEqual(columns.map((c) => c.wireType));
    const want = published(expectedRows(columns), columns.map((c) => c.wireType));
    for (let c = 0; c < columns.length; c++) {
      expect({ column: columns[c]!.element.name, cells: table.rows.map((r) => r[c]) }).toEqual({
        column: columns[c]!.element.name,
        cells: want.map((r) => r[c]),
      });
    }
  });

  it('prints the schema from the file without contacting a server', async () => {
    const out = jsonResult<{ tables: { name: string; format: string; rows: number; columns: (ColumnSchema & { nulls: number })[] }[] }>(
      await runCli(['schema', file, '--json']),
    );
    expect(out.tables[0]).toMatchObject({ name: 'every_type', format: 'parquet', rows: 240 });
    expect(out.tables[0]!.columns.map(({ name, type, role }) => ({ name, type, role }))).toEqual(expectedSchema(columns));
    expect(out.tables[0]!.columns.map((c) => c.nulls)).toEqual(columns.map((c) => c.expected.filter((v) => v === null).length));
  });

  it('keeps strings that look like null tokens as text', async () => {
    const strings = path.join(scratch.dir, 'tokens.parquet');
    writeParquetFile(strings, [
      { element: { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8' }, data: ['', 'NA', 'null', 'NULL', 'N/A', '#N/A', null] },
    ]);
    const out = await create([strings], 'parquet tokens');
    expect(storedTable(out.datasetId, 'tokens').rows).toEqual([[''], ['NA'], ['null'], ['NULL'], ['N/A'], ['#N/A'], [null]]);
  });
});

describe('mstrpush with Parquet and schema options', () => {
  const columns = generateTypeMatrix(30, 99);
  const pick = (...names: string[]) => names.map((n) => columns.find((c) => c.element.name === n)!);
  const file = path.join(scratch.dir, 'orders.parquet');
  beforeAll(() => writeParquetFile(file, pick('int32', 'int64', 'text', 'dec_int64', 'day')));

  it('applies --type, --attribute and --metric over the declared types', async () => {
    const out = await create([file], 'parquet overrides', ['--type', 'int32=STRING', '--attribute', 'int64', '--metric', 'dec_int64']);
    expect(out.tables[0]!.columns).toEqual([
      { name: 'int32', type: 'STRING', role: 'attribute' },
      { name: 'int64', type: 'BIGINTEGER', role: 'attribute' },
      { name: 'text', type: 'STRING', role: 'attribute' },
      { name: 'dec_int64', type: 'BIGDECIMAL', role: 'metric' },
      { name: 'day', type: 'DATE', role: 'attribute' },
    ]);
    expect(storedTable(out.datasetId, 'orders').rows.map((r) => r[0])).toEqual(pick('int32')[0]!.expected);
  });

  it('refuses a --type the file values do not fit, naming the row', async () => {
    const result = await runCli(['schema', file, '--type', 'text=INTEGER']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(new RegExp(`${file.replaceAll('.', '\\.')}:\\d+: column "text": .* is not a valid INTEGER`));
  });

  it('leaves out --exclude columns', async () => {
    const out = await create([file], 'parquet exclude', ['--exclude', 'text', '--exclude', 'day']);
    expect(out.tables[0]!.columns.map((c) => c.name)).toEqual(['int32', 'int64', 'dec_int64']);
    expect(storedTable(out.datasetId, 'orders').rows).toEqual(expectedRows(pick('int32', 'int64', 'dec_int64')));
  });

  it('refuses an --exclude that names no column', async () => {
    const result = await runCli(['schema', file, '--exclude', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"nope"');
  });

  it('reads a file without the extension with --format parquet', async () => {
    const bare = path.join(scratch.dir, 'export.bin');
    copyFileSync(file, bare);
    const out = jsonResult<{ tables: { name: string; format: string; rows: number }[] }>(await runCli(['schema', `${bare}:Orders`, '--format', 'parquet', '--json']));
    expect(out.tables).toEqual([expect.objectContaining({ name: 'Orders', format: 'parquet', rows: 30 })]);
  });

  it('loads Parquet and CSV files as tables of one dataset', async () => {
    const customers = path.join(scratch.dir, 'customers.csv');
    writeFileSync(customers, `text,region\n${columns.slice(0, 3).map((_, i) => `cust${i},north`).join('\n')}\n`);
    const out = await create([file, customers], 'parquet and csv');
    expect(out.tables.map((t) => [t.name, t.rows])).toEqual([
      ['orders', 30],
      ['customers', 3],
    ]);
    const stored = emulator.current().state.inspectDataset(out.datasetId)!;
    expect(stored.tables.map((t) => t.name)).toEqual(['orders', 'customers']);
    expect(storedTable(out.datasetId, 'customers').rows).toEqual([
      ['cust0', 'north'],
      ['cust1', 'north'],
      ['cust2', 'north'],
    ]);
  });

  it('appends a Parquet file to a dataset made from it', async () => {
    const out = await create([file], 'parquet append');
    const appended = jsonResult<{ tables: { name: string; rows: number }[] }>(
      await runCli(['append', out.datasetId, file, '--json', '--quiet', '--poll-interval', '20ms'], { env: emulator.env() }),
    );
    expect(appended.tables).toEqual([expect.objectContaining({ name: 'orders', rows: 30 })]);
    const rows = expectedRows(pick('int32', 'int64', 'text', 'dec_int64', 'day'));
    expect(storedTable(out.datasetId, 'orders').rows).toEqual([...rows, ...rows]);
  });
});

describe('mstrpush on Parquet columns it cannot load', () => {
  it('refuses nested and binary columns with exit 4, naming them and the way out', async () => {
    const file = path.join(scratch.dir, 'mixed.parquet');
    writeParquetFile(file, [
      { element: { name: 'id', type: 'INT32' }, data: [1, 2] },
      { element: { name: 'blob', type: 'BYTE_ARRAY' }, data: [new Uint8Array([1]), null] },
    ]);
    const result = await runCli(['create', file, '--name', 'refused'], { env: emulator.env() });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`mstrpush: error: ${file}: cannot load column "blob" (BINARY): raw bytes have no wire type`);
    expect(result.stderr).toContain('mstrpush: hint: leave it out with --exclude blob; or, if a BINARY column holds text, read it as UTF-8 with --binary-as-string');
    expect(emulator.current().state.findDatasetId('refused')).toBeUndefined();
    const excluded = await create([file], 'refused but excluded', ['--exclude', 'blob']);
    expect(storedTable(excluded.datasetId, 'mixed').rows).toEqual([['1'], ['2']]);
  });

  it('warns about NaN and infinite values read as NULL', async () => {
    const file = path.join(scratch.dir, 'nan.parquet');
    writeParquetFile(file, [{ element: { name: 'ratio', type: 'DOUBLE' }, data: [0.5, Number.NaN, -Infinity] }]);
    const result = await runCli(['create', file, '--name', 'nan', '--json', '--poll-interval', '20ms'], { env: emulator.env() });
    const out = jsonResult<{ datasetId: string }>(result);
    expect(result.stderr.split('\n').filter((l) => l.includes('NaN'))).toEqual([
      `mstrpush: ${file}: column "ratio": 2 NaN or infinite values were read as NULL (no wire type holds them)`,
    ]);
    expect(storedTable(out.datasetId, 'nan').rows).toEqual([['0.5'], [null], [null]]);
  });
});
