// A seeded 100,000-row file through `mstrpush create` and `append` as processes: many chunks,
// every published cell compared with the generator's expectation.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { jsonResult, makeSandbox, runCli, useEmulator } from '../helpers/cli.js';
import { firstDifference, generateCsv } from '../helpers/seeded-csv.js';
import type { ColumnSpec } from '../helpers/seeded-csv.js';

const CHUNK_BYTES = 256_000;
const TABLE = 'large';

// The inspection does not expose chunk sizes, so the emulator's body limit stands in for them: a
// chunk body is {"tableName":"large","index":N,"data":"<base64 of the chunk JSON>"}, and with the
// limit below any chunk JSON longer than 256,002 bytes (base64 grows in steps of 3 bytes) is a 413.
const MAX_CHUNK_BODY =
  Buffer.byteLength(`{"tableName":"${TABLE}","index":999,"data":"`) + Math.ceil(CHUNK_BYTES / 3) * 4 + Buffer.byteLength('"}');

const emulator = useEmulator({ maxBodyBytes: MAX_CHUNK_BODY });
const scratch = makeSandbox();
afterAll(() => scratch.cleanup());

const ROWS = 100_000;
const specs: ColumnSpec[] = [
  { name: 'id', kind: 'integer', nullRate: 0 },
  { name: 'qty', kind: 'integer' },
  { name: 'price', kind: 'decimal' },
  { name: 'total', kind: 'bigdecimal' },
  { name: 'day', kind: 'date' },
  { name: 'at', kind: 'datetime' },
  { name: 'note', kind: 'string', nullRate: 0.05 },
  { name: 'flag', kind: 'bool' },
];
const generated = generateCsv(20_261_120, ROWS, specs);
const file = path.join(scratch.dir, `${TABLE}.csv`);

function publishedTable(datasetId: string) {
  const inspection = emulator.current().state.inspectDataset(datasetId);
  if (inspection === undefined) throw new Error(`no dataset ${datasetId}`);
  const table = inspection.tables.find((t) => t.name === TABLE);
  if (table?.rows === undefined) throw new Error(`no rows kept for table ${TABLE}`);
  return { inspection, table, rows: table.rows };
}

describe('mstrpush create and append with a large generated file', () => {
  let datasetId: string;

  beforeAll(() => {
    writeFileSync(file, generated.text);
  });

  it('uploads 100,000 rows in many chunks of at most 256KB and publishes every cell as generated', async () => {
    expect(Buffer.byteLength(generated.text)).toBeGreaterThan(5 * CHUNK_BYTES);
    const out = jsonResult(
      await runCli(['create', file, '--name', 'Large', '--chunk-size', '256KB', '--json', '--quiet', '--poll-interval', '50ms'], {
        env: emulator.env(),
      }),
    );
    datasetId = out.datasetId;
    expect(out.published).toBe(true);
    expect(out.tables[0].columns).toEqual([
      { name: 'id', type: 'INTEGER', role: 'attribute' },
      { name: 'qty', type: 'INTEGER', role: 'metric' },
      { name: 'price', type: 'DOUBLE', role: 'metric' },
      { name: 'total', type: 'BIGDECIMAL', role: 'metric' },
      { name: 'day', type: 'DATE', role: 'attribute' },
      { name: 'at', type: 'DATETIME', role: 'attribute' },
      { name: 'note', type: 'STRING', role: 'attribute' },
      { name: 'flag', type: 'BOOL', role: 'attribute' },
    ]);
    expect(out.tables[0].rows).toBe(ROWS);
    const chunks: number = out.tables[0].chunks;
    expect(chunks).toBeGreaterThan(1);
    expect(chunks).toBeLessThan(1000);
    // The JSON text of all chunks cannot fit in fewer chunks of 256,000 bytes.
    expect(chunks).toBeGreaterThanOrEqual(Math.ceil(out.tables[0].bytes / CHUNK_BYTES));

    const { inspection, table, rows } = publishedTable(datasetId);
    expect(inspection.uploadSessions).toHaveLength(1);
    expect(inspection.uploadSessions[0]!.chunks[TABLE]).toEqual(Array.from({ length: chunks }, (_, i) => i + 1));
    expect(table.rowCount).toBe(ROWS);
    expect(rows).toHaveLength(ROWS);
    expect(firstDifference(rows, generated.rows)).toBeUndefined();
  });

  it('appends the same file with --policy add, doubling the rows', async () => {
    const out = jsonResult(
      await runCli(['append', datasetId, file, '--policy', 'add', '--chunk-size', '256KB', '--json', '--quiet', '--poll-interval', '50ms'], {
        env: emulator.env(),
      }),
    );
    expect(out).toMatchObject({ datasetId, published: true, tables: [{ name: TABLE, rows: ROWS }] });
    const { inspection, table, rows } = publishedTable(datasetId);
    expect(inspection.uploadSessions).toHaveLength(2);
    expect(inspection.uploadSessions[1]!.chunks[TABLE]).toHaveLength(out.tables[0].chunks);
    expect(table.rowCount).toBe(2 * ROWS);
    expect(firstDifference(rows.slice(0, ROWS), generated.rows)).toBeUndefined();
    expect(firstDifference(rows.slice(ROWS), generated.rows)).toBeUndefined();
  });
});
