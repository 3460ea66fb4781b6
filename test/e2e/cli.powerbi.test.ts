// The CLI as a process against the bundled Power BI emulator.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { jsonResult, makeSandbox, repoRoot, runCli, usePowerBiEmulator } from '../helpers/cli.js';

const scratch = makeSandbox();
afterAll(() => scratch.cleanup());
const demo = (name: string) => path.join(repoRoot, 'fixtures', 'demo', name);

function idCsv(name: string, rows: number): string {
  const file = path.join(scratch.dir, name);
  const lines = ['id,label'];
  for (let i = 1; i <= rows; i++) lines.push(`${i},row ${i}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function expectEachIdOnce(rows: ReadonlyArray<ReadonlyArray<unknown>>, count: number): void {
  expect(rows).toHaveLength(count);
  expect(rows.map((r) => Number(r[0])).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
}

describe('mstrpush --target powerbi', () => {
  const pbi = usePowerBiEmulator();

  it('creates a push dataset with one table per file and posts every row exactly', async () => {
    const out = jsonResult(await runCli(['create', demo('sales.csv'), `${demo('stores.csv')}:Stores`, '--name', 'Sales', '--json'], { env: pbi.env() }));
    expect(out).toMatchObject({ name: 'Sales', policy: 'create', retention: 'none', group: pbi.current().state.options.workspaces[0]!.id });
    expect(out.tables.map((t: { name: string; rows: number }) => [t.name, t.rows])).toEqual([['sales', 6], ['Stores', 3]]);
    const stored = pbi.current().state.inspectDataset(out.datasetId)!;
    const sales = stored.tables.find((t) => t.name === 'sales')!;
    expect(sales.columns.map((c) => `${c.name}:${c.dataType}`)).toEqual([
      'order_id:Int64', 'store_code:String', 'sold_at:DateTime', 'product:String', 'quantity:Int64', 'unit_price:Double', 'discounted:Boolean', 'ship_date:DateTime',
    ]);
    expect(sales.rows).toEqual([
      ['100001', '00017', '2026-11-20T09:15:02Z', 'Espresso beans, 1 kg', '2', '18.9', false, '2026-11-21T00:00:00'],
      ['100002', '00017', '2026-11-20T08:47:30Z', 'Milk frother', '1', '54', true, '2026-11-22T00:00:00'],
      ['100003', '00042', '2026-11-20T10:03:11', 'Mug "Monday"', '6', '7.5', false, null],
      ['100004', '00042', '2026-11-20T11:20:45.25Z', 'Grinder (burr)', '1', '129.99', false, '2026-11-23T00:00:00'],
      ['100005', '00108', '2026-11-20T12:05:00Z', 'Café au lait cups', '4', '3.25', true, '2026-11-21T00:00:00'],
      ['100006', '00108', '2026-11-20T13:30:59Z', 'Filter papers\n(pack of 100)', '10', '2.1', false, '2026-11-21T00:00:00'],
    ]);
    expect(stored.tables.find((t) => t.name === 'Stores')!.rows).toEqual([
      ['00017', 'Lisbon', '2019-03-01T00:00:00', '120.5'],
      ['00042', 'Porto', '2021-07-15T00:00:00', '85'],
      ['00108', 'Faro', '2024-01-09T00:00:00', null],
    ]);
  });

  it('appends rows, replaces them with --policy replace, reports status, and has nothing to publish', async () => {
    const created = jsonResult(await runCli(['create', demo('sales.csv'), '--name', 'Appendable', '--json'], { env: pbi.env() }));
    const rows = () => pbi.current().state.inspectDataset(created.datasetId)!.tables[0]!.rowCount;
    jsonResult(await runCli(['append', created.datasetId, `${demo('sales-2026-11-21.csv')}:sales`, '--json'], { env: pbi.env() }));
    expect(rows()).toBe(8);
    jsonResult(await runCli(['append', created.datasetId, `${demo('sales-2026-11-21.csv')}:sales`, '--policy', 'replace', '--json'], { env: pbi.env() }));
    expect(rows()).toBe(2);

    const status = jsonResult(await runCli(['status', created.datasetId, '--json'], { env: pbi.env() }));
    expect(status).toMatchObject({ datasetId: created.datasetId, name: 'Appendable', tables: [{ name: 'sales' }] });
    const publish = await runCli(['publish', created.datasetId], { env: pbi.env() });
    expect(publish.code).toBe(0);
    expect(publish.stdout).toContain('need no publishing');

    const upsert = await runCli(['append', created.datasetId, demo('sales-2026-11-21.csv'), '--policy', 'upsert'], { env: pbi.env() });
    expect(upsert.code).toBe(2);
    // Without an unfinished run of the same command, --resume is a plain run.
    const resume = await runCli(['create', demo('sales.csv'), '--name', 'X', '--resume', '--json'], { env: pbi.env() });
    expect(jsonResult(resume).tables).toEqual([expect.objectContaining({ name: 'sales', rows: 6 })]);
    expect(resume.stderr).toContain('no unfinished run of this command: starting a new one');
  });

  it('refuses schemas over the limits before sending anything, naming row and column', async () => {
    const wide = path.join(scratch.dir, 'wide.csv');
    const names = Array.from({ length: 76 }, (_, i) => `c${i + 1}`);
    writeFileSync(wide, `${names.join(',')}\n${names.map((_, i) => i).join(',')}\n`);
    const before = pbi.current().state.summarize().length;
    const tooWide = await runCli(['create', wide, '--name', 'Wide'], { env: pbi.env() });
    expect(tooWide.code).toBe(4);
    expect(tooWide.stderr).toMatch(/76 columns/);

    const long = path.join(scratch.dir, 'long-text.csv');
    writeFileSync(long, `id,note\n1,short\n2,${'x'.repeat(4001)}\n`);
    const tooLong = await runCli(['create', long, '--name', 'Long'], { env: pbi.env() });
    expect(tooLong.code).toBe(4);
    expect(tooLong.stderr).toContain(`${long}:3`);
    expect(tooLong.stderr).toContain('"note"');
    expect(tooLong.stderr).toContain('4,001');
    expect(pbi.current().state.summarize()).toHaveLength(before);
  });
});

describe('pacing against the rate limits (time-scaled: one emulated minute per second)', () => {
  const pbi = usePowerBiEmulator({ timeScale: 60 });
  it('crosses the per-minute limit without a 429 and posts every row once', async () => {
    const file = idCsv('paced.csv', 1500);
    const out = jsonResult(await runCli(['create', file, '--name', 'Paced', '--batch-rows', '10', '--json'], { env: pbi.env(), timeoutMs: 60_000 }));
    expect(out.tables[0]).toMatchObject({ rows: 1500, chunks: 150 });
    const log = pbi.current().state.postRowsLog();
    expect(log).toHaveLength(150);
    expect(log.every((r) => r.status === 200)).toBe(true);
    expectEachIdOnce(pbi.current().state.inspectDataset(out.datasetId)!.tables[0]!.rows!, 1500);
  });
});

describe('a service stricter than documented', () => {
  const pbi = usePowerBiEmulator({ timeScale: 60, postsPerMinute: 60 });
  it('waits out every 429 and resends the same batch, losing and doubling nothing', async () => {
    const file = idCsv('throttled.csv', 1000);
    const result = await runCli(['create', file, '--name', 'Throttled', '--batch-rows', '10', '--json'], { env: pbi.env(), timeoutMs: 60_000 });
    const out = jsonResult(result);
    const log = pbi.current().state.postRowsLog();
    const refused = log.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(out.throttled).toBe(refused.length);
    for (const refusal of refused) {
      expect(log.some((r) => r.seq > refusal.seq && r.bodySha256 === refusal.bodySha256 && r.status === 200)).toBe(true);
    }
    expect(log.filter((r) => r.status === 200)).toHaveLength(100);
    expectEachIdOnce(pbi.current().state.inspectDataset(out.datasetId)!.tables[0]!.rows!, 1000);
  });
});
