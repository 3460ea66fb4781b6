import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { jsonResult, makeSandbox, repoRoot, runCli, useEmulator } from '../helpers/cli.js';

const demo = (name: string) => path.join(repoRoot, 'fixtures', 'demo', name);
const emulator = useEmulator();
const scratch = makeSandbox();
afterAll(() => scratch.cleanup());

function tableRows(datasetId: string, table: string) {
  const inspection = emulator.current().state.inspectDataset(datasetId);
  const found = inspection?.tables.find((t) => t.name === table);
  if (!found) throw new Error(`no table ${table} in ${datasetId}`);
  return found;
}

describe('mstrpush create', () => {
  it('creates a two-table dataset, publishes it and reports it as JSON', async () => {
    const result = await runCli(['create', demo('sales.csv'), `${demo('stores.csv')}:Stores`, '--name', 'Demo Sales', '--json'], {
      env: emulator.env(),
    });
    const out = jsonResult(result);
    expect(out).toMatchObject({ name: 'Demo Sales', published: true });
    expect(out.datasetId).toMatch(/^[0-9A-F]{32}$/);
    expect(out.uploadSessionId).toMatch(/^[0-9A-F]{32}$/);
    expect(out.tables.map((t: { name: string }) => t.name)).toEqual(['sales', 'Stores']);
    expect(out.tables[0]).toMatchObject({ rows: 6, chunks: 1 });
    expect(out.tables[0].columns).toEqual([
      { name: 'order_id', type: 'INTEGER', role: 'attribute' },
      { name: 'store_code', type: 'STRING', role: 'attribute' },
      { name: 'sold_at', type: 'DATETIME', role: 'attribute' },
      { name: 'product', type: 'STRING', role: 'attribute' },
      { name: 'quantity', type: 'INTEGER', role: 'metric' },
      { name: 'unit_price', type: 'DOUBLE', role: 'metric' },
      { name: 'discounted', type: 'BOOL', role: 'attribute' },
      { name: 'ship_date', type: 'DATE', role: 'attribute' },
    ]);

    const sales = tableRows(out.datasetId, 'sales');
    expect(sales.rows).toEqual([
      ['100001', '00017', '2026-11-20T09:15:02', 'Espresso beans, 1 kg', '2', '18.90', false, '2026-11-21'],
      ['100002', '00017', '2026-11-20T08:47:30', 'Milk frother', '1', '54.00', true, '2026-11-22'],
      ['100003', '00042', '2026-11-20T10:03:11', 'Mug "Monday"', '6', '7.50', false, null],
      ['100004', '00042', '2026-11-20T11:20:45.25', 'Grinder (burr)', '1', '129.99', false, '2026-11-23'],
      ['100005', '00108', '2026-11-20T12:05:00', 'Café au lait cups', '4', '3.25', true, '2026-11-21'],
      ['100006', '00108', '2026-11-20T13:30:59', 'Filter papers\n(pack of 100)', '10', '2.10', false, '2026-11-21'],
    ]);
    expect(tableRows(out.datasetId, 'Stores').rows).toEqual([
      ['00017', 'Lisbon', '2019-03-01', '120.5'],
      ['00042', 'Porto', '2021-07-15', '85'],
      ['00108', 'Faro', '2024-01-09', null],
    ]);
    // store_code is in both tables with the same type, so one attribute links them.
    const inspection = emulator.current().state.inspectDataset(out.datasetId)!;
    expect(inspection.tables[1]!.columns.find((c) => c.name === 'store_code')).toMatchObject({ dataType: 'STRING', role: 'attribute' });
    expect(result.stderr).toContain('published');
  });

  it('reads standard input, spooling it for the two passes', async () => {
    const csv = 'id;amount;note\n1;2.5;"semi;colon"\n2;;plain\n';
    const out = jsonResult(await runCli(['create', '-:Piped', '--name', 'From stdin', '--json', '--quiet'], { env: emulator.env(), input: csv }));
    expect(out.tables[0]).toMatchObject({ name: 'Piped', rows: 2 });
    expect(tableRows(out.datasetId, 'Piped').rows).toEqual([
      ['1', '2.5', 'semi;colon'],
      ['2', null, 'plain'],
    ]);
  });

  it('prints only the result on stdout and nothing on stderr with --quiet', async () => {
    const result = await runCli(['create', demo('stores.csv'), '--name', 'Quiet', '--quiet'], { env: emulator.env() });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^Dataset "Quiet" \([0-9A-F]{32}\) created and published\.\n  stores: 3 rows in 1 chunk/);
  });
});

describe('mstrpush append, publish and status', () => {
  let datasetId: string;
  beforeAll(async () => {
    datasetId = jsonResult(await runCli(['create', demo('sales.csv'), '--name', 'Appendable', '--json'], { env: emulator.env() })).datasetId;
  });

  it('adds rows to the only table by default', async () => {
    const out = jsonResult(await runCli(['append', datasetId, demo('sales-2026-11-21.csv'), '--json'], { env: emulator.env() }));
    expect(out).toMatchObject({ datasetId, published: true, tables: [{ name: 'sales', rows: 2 }] });
    const sales = tableRows(datasetId, 'sales');
    expect(sales.rowCount).toBe(8);
    expect(sales.rows?.slice(6)).toEqual([
      ['100007', '00017', '2026-11-21T08:01:00', 'Espresso cups (set of 2)', '1', '12.00', false, '2026-11-22'],
      ['100008', '00108', '2026-11-21T19:45:10', 'Cold brew bottle', '3', '9.95', true, null],
    ]);
  });

  it('leaves the session open with --no-publish, then publishes it with publish --session', async () => {
    const before = tableRows(datasetId, 'sales').rowCount;
    const open = jsonResult(await runCli(['append', datasetId, demo('sales-2026-11-21.csv'), '--no-publish', '--json'], { env: emulator.env() }));
    expect(open.published).toBe(false);
    expect(tableRows(datasetId, 'sales').rowCount).toBe(before);

    const text = await runCli(['append', datasetId, demo('sales-2026-11-21.csv'), '--no-publish'], { env: emulator.env() });
    // A second session cannot open while the first is pending: the server's refusal is shown in one line.
    expect(text.code).toBe(6);
    expect(text.stderr).toMatch(/ERR006/);

    const published = jsonResult(await runCli(['publish', datasetId, '--session', open.uploadSessionId, '--json'], { env: emulator.env() }));
    expect(published).toMatchObject({ datasetId, uploadSessionId: open.uploadSessionId, published: true, status: 1 });
    expect(tableRows(datasetId, 'sales').rowCount).toBe(before + 2);
  });

  it('replaces the table with --policy replace', async () => {
    jsonResult(await runCli(['append', datasetId, demo('sales-2026-11-21.csv'), '--policy', 'replace', '--json'], { env: emulator.env() }));
    expect(tableRows(datasetId, 'sales').rowCount).toBe(2);
  });

  it('shows tables, columns, types and roles, and a session status', async () => {
    const out = jsonResult(await runCli(['status', datasetId, '--json'], { env: emulator.env() }));
    expect(out.datasetId).toBe(datasetId);
    expect(out.tables[0].name).toBe('sales');
    expect(out.tables[0].columns).toContainEqual({ name: 'unit_price', type: 'DOUBLE', role: 'metric' });
    const text = await runCli(['status', datasetId], { env: emulator.env() });
    expect(text.stdout).toMatch(/Table sales\ncolumn +type +role/);
  });

  it('refuses a file whose values break the dataset types, before uploading, naming line, column and value', async () => {
    const bad = path.join(scratch.dir, 'bad-sales.csv');
    writeFileSync(bad, 'order_id,quantity\n1,2\n2,lots\n');
    const before = tableRows(datasetId, 'sales').rowCount;
    const result = await runCli(['append', datasetId, `${bad}:sales`], { env: emulator.env() });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`${bad}:3:`);
    expect(result.stderr).toContain('"quantity"');
    expect(result.stderr).toContain('lots');
    expect(tableRows(datasetId, 'sales').rowCount).toBe(before);
  });
});

describe('exit codes', () => {
  it('exits 5 with one line for a wrong password', async () => {
    const result = await runCli(['create', demo('stores.csv'), '--name', 'X'], { env: { ...emulator.env(), MSTRPUSH_PASSWORD: 'wrong-password' } });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/error: login as "etl" failed: 401 ERR003 "Login failed" \(ticket [0-9a-f]{32}\)/);
    expect(result.stderr).not.toContain('wrong-password');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 6 when the server is unreachable', async () => {
    const result = await runCli(['status', 'ABC'], { env: { ...emulator.env(), MSTRPUSH_URL: 'http://127.0.0.1:9/MicroStrategyLibrary/api' } });
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
  });

  it('exits 3 when no server URL is configured', async () => {
    const result = await runCli(['create', demo('stores.csv'), '--name', 'X'], { env: { ...emulator.env(), MSTRPUSH_URL: undefined } });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('no server URL given');
  });

  it('exits 2 for an unknown option and 4 for a missing file', async () => {
    expect((await runCli(['create', demo('stores.csv'), '--name', 'X', '--frobnicate'], { env: emulator.env() })).code).toBe(2);
    const missing = await runCli(['create', 'no-such-file.csv', '--name', 'X'], { env: emulator.env() });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('no-such-file.csv');
  });

  it('exits 4 naming file, line, column and value when a --type override does not fit', async () => {
    const file = path.join(scratch.dir, 'codes.csv');
    writeFileSync(file, 'code,qty\nA1,1\nB2,2\nC3,x3\n');
    const result = await runCli(['schema', file, '--type', 'qty=INTEGER']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`${file}:4:`);
    expect(result.stderr).toContain('"qty"');
    expect(result.stderr).toContain('x3');
  });
});

describe('publication failures', () => {
  const failing = useEmulator({ publishOutcome: 'fail' });
  const stuck = useEmulator({ publishOutcome: 'never' });

  it('exits 7 with the dataset, session and status when the publication fails', async () => {
    const result = await runCli(['create', demo('stores.csv'), '--name', 'Fails'], { env: failing.env() });
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/publication of dataset [0-9A-F]{32} failed: status 3 .*\(upload session [0-9A-F]{32}\)/);
    expect(result.stderr).toMatch(/hint: .*mstrpush publish/);
  });

  it('exits 7 when the publication does not finish within --timeout', async () => {
    const result = await runCli(['create', demo('stores.csv'), '--name', 'Stuck', '--timeout', '2s', '--poll-interval', '500ms'], { env: stuck.env() });
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/did not finish within 2s: last status 6/);
    expect(result.stderr).toMatch(/mstrpush status [0-9A-F]{32} --session [0-9A-F]{32}/);
  });
});
