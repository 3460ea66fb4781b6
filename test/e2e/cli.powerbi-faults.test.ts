// The reliability matrix on Power BI: each fault injected into the emulator must end in exactly
// the rows a clean run leaves (checked cell by cell), or in a loud failure whose message says
// exactly which rows the dataset holds, with the right exit code.

import { appendFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Cell, PowerBiEmulatorOptions } from '../../src/emulator/powerbi/server.js';
import { jsonResult, makeSandbox, runCli, usePowerBiEmulator, waitFor } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';

const scratch = makeSandbox();
afterAll(() => scratch.cleanup());

const ROWS = 20_000;
const BATCH = '1000';
const file = path.join(scratch.dir, 'orders.csv');
const expected: Cell[][] = [];
beforeAll(() => {
  const lines = ['order_id,customer,total'];
  for (let i = 1; i <= ROWS; i++) {
    const total = `${(i * 7) % 1000}.${String(i % 100).padStart(2, '0')}`;
    lines.push(`${i},"Customer ${i % 311}, ""Ltd""",${total}`);
    expected.push([String(i), `Customer ${i % 311}, "Ltd"`, String(Number(total))]);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
});

function usePowerBi(options: PowerBiEmulatorOptions = {}) {
  const { current, env } = usePowerBiEmulator(options);
  const datasets = (name: string) => current().state.summarize().filter((d) => d.name === name);
  const rowsOf = (datasetId: string) => current().state.inspectDataset(datasetId)!.tables[0]!.rows!;
  const pending = (datasetId: string) => current().state.getDataset(current().state.options.workspaces[0]!.id, datasetId).pending;
  return { current, env, datasets, rowsOf, pending };
}

type Emulator = ReturnType<typeof usePowerBi>;

const stateDir = (name: string) => path.join(scratch.dir, `state-${name}`);
const createArgs = (name: string, ...extra: string[]) => ['create', file, '--name', name, '--batch-rows', BATCH, '--state-dir', stateDir(name), '--json', ...extra];

/** Rows sorted by id: batches land in any order, but every row must be there exactly once. */
function byId(rows: readonly Cell[][]): Cell[][] {
  return [...rows].sort((a, b) => Number(a[0]) - Number(b[0]));
}

function expectExactly(pbi: Emulator, datasetId: string, rows: readonly Cell[][] = expected): void {
  const stored = pbi.rowsOf(datasetId);
  expect(stored).toHaveLength(rows.length);
  expect(byId(stored)).toEqual(rows);
}

/** `1-2,000 and 3,001-5,000`: the ids the table holds, written the way the CLI writes ranges. */
function idRanges(rows: readonly Cell[][]): string {
  const ids = rows.map((r) => Number(r[0])).sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    const [from, to] = [ids[i]!, ids[j]!].map((n) => n.toLocaleString('en-US'));
    parts.push(from === to ? from! : `${from}-${to}`);
    i = j + 1;
  }
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

// Journals only: a run killed mid-write may also leave a half-written `.tmp` copy, which the next
// finished run removes.
function journals(name: string): string[] {
  const dir = path.join(stateDir(name), 'runs');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
}

describe('503 on a rows POST of a create', () => {
  const pbi = usePowerBi({ faults: ['rows#3=503'] });
  it('does not resend the batch blindly: it empties the table and loads it again, ending with every row once', async () => {
    const result = await runCli(createArgs('Rows503'), { env: pbi.env() });
    const out = jsonResult(result);
    expect(out).toMatchObject({ reloads: 1, tables: [{ rows: ROWS, chunks: 20 }] });
    expectExactly(pbi, out.datasetId);
    expect(result.stderr).toMatch(/table "orders": POST \S+ was refused: 503 ServiceUnavailable .*; Power BI cannot say whether rows [\d,-]+(, [\d,-]+)*( and [\d,-]+)? arrived, so the table is emptied and loaded again from its first row \(reload 1 of 5 in \d\.\d s\)/);
    expect(pbi.current().state.faultLog).toEqual([expect.objectContaining({ rule: 'rows#3=503' })]);
    expect(journals('Rows503')).toEqual([]);
  });
});

describe('connection reset on a rows POST', () => {
  const pbi = usePowerBi({ faults: ['rows#2=reset-before', 'rows#9=reset-after'] });
  it('before and after the service stored it: the table is emptied and loaded again, so no row is lost or doubled', async () => {
    const result = await runCli(createArgs('Reset'), { env: pbi.env() });
    const out = jsonResult(result);
    expect(out.reloads).toBe(2);
    expectExactly(pbi, out.datasetId);
    const log = pbi.current().state.postRowsLog();
    expect(log.find((r) => r.fault === 'rows#2=reset-before')).toMatchObject({ status: 0 });
    // The batch the service stored before the reset was deleted with the rest, not kept twice.
    expect(log.find((r) => r.fault === 'rows#9=reset-after')).toMatchObject({ status: 200, rows: 1000 });
    expect(pbi.current().state.stats.rowsDeleted).toBeGreaterThanOrEqual(1000);
    expect(result.stderr).toMatch(/(UND_ERR_SOCKET|ECONNRESET|EPIPE).*Power BI cannot say whether rows/);
  });
});

describe('429 with Retry-After', () => {
  const pbi = usePowerBi({ faults: ['create=429:1', 'rows#2=429:1'] });
  it('waits as told on creating the dataset and on a rows POST, creates one dataset and resends the same batch', async () => {
    const started = Date.now();
    const result = await runCli(createArgs('Throttled'), { env: pbi.env() });
    const out = jsonResult(result);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(pbi.datasets('Throttled')).toHaveLength(1);
    expect(out).toMatchObject({ throttled: 1, reloads: 0 });
    expectExactly(pbi, out.datasetId);
    const log = pbi.current().state.postRowsLog();
    const refused = log.find((r) => r.status === 429)!;
    expect(log.filter((r) => r.bodySha256 === refused.bodySha256).map((r) => r.status)).toEqual([429, 200]);
    expect(result.stderr).toMatch(/POST \S+\/datasets failed \(HTTP 429\); retry 1 of 5 in 1\.0 s/);
    expect(result.stderr).toMatch(/Power BI answered 429 .*; sending rows [\d,]+-[\d,]+ of table "orders" again after 1 s/);
  });
});

describe('creating the dataset fails without an answer', () => {
  const pbi = usePowerBi({ faults: ['create#1=reset-after', 'create#2=503'] });
  it('finds the dataset the service stored instead of making a twin, or creates it once more when none was stored', async () => {
    const stored = await runCli(createArgs('Stored'), { env: pbi.env() });
    const out = jsonResult(stored);
    expect(pbi.datasets('Stored')).toEqual([expect.objectContaining({ id: out.datasetId })]);
    expectExactly(pbi, out.datasetId);
    expect(stored.stderr).toContain(`but the service stored it: continuing with ${out.datasetId}`);

    const lost = await runCli(createArgs('Lost'), { env: pbi.env() });
    const again = jsonResult(lost);
    expect(pbi.datasets('Lost')).toEqual([expect.objectContaining({ id: again.datasetId })]);
    expectExactly(pbi, again.datasetId);
    expect(lost.stderr).toContain('and the service did not store it; trying again');
  });
});

describe('the token expires mid-upload', () => {
  const pbi = usePowerBi({ faults: ['rows#4=expire-token'] });
  it('gets a new token and resends the batch, which the service had refused with 403 TokenExpired', async () => {
    const out = jsonResult(await runCli(createArgs('Renewed'), { env: pbi.env() }));
    // Every request in flight with the expired token was refused and resent; one new token served them all.
    expect(out.tokenRefreshes).toBeGreaterThanOrEqual(1);
    expect(out.reloads).toBe(0);
    expect(pbi.current().state.stats.tokensIssued).toBe(2);
    expectExactly(pbi, out.datasetId);
  });
});

describe('a rows POST that keeps failing on a create', () => {
  const pbi = usePowerBi({ faults: ['rows#2*inf=503'] });
  it('gives up after --retries reloads, deletes the new dataset again and exits 7', async () => {
    const result = await runCli(createArgs('GivesUp', '--retries', '2'), { env: pbi.env() });
    expect(result.code).toBe(7);
    expect(result.stderr.match(/reload \d of 2/g)).toEqual(['reload 1 of 2', 'reload 2 of 2']);
    expect(result.stderr).toMatch(/dataset "GivesUp" \([0-9a-f-]{36}\) was deleted again, so the workspace holds what it held before this run/);
    expect(pbi.datasets('GivesUp')).toEqual([]);
    expect(journals('GivesUp')).toEqual([]);
  });
});

describe('503 on a rows POST of an append (add)', () => {
  const pbi = usePowerBi({ faults: ['rows#4=503'] });
  it('stops without resending, says exactly which rows arrived, refuses --resume, and --policy replace recovers', async () => {
    const seed = path.join(scratch.dir, 'seed.csv');
    writeFileSync(seed, 'order_id,customer,total\n0,"Customer 0, ""Ltd""",1.5\n');
    const created = jsonResult(await runCli(['create', seed, '--name', 'Daily', '--json', '--state-dir', stateDir('seed')], { env: pbi.env() }));
    const append = (...extra: string[]) => runCli(['append', created.datasetId, `${file}:seed`, '--batch-rows', BATCH, '--state-dir', stateDir('daily'), ...extra], { env: pbi.env() });

    const failed = await append();
    expect(failed.code).toBe(7);
    const held = pbi.rowsOf(created.datasetId).filter((r) => r[0] !== '0');
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThan(ROWS);
    // Nothing doubled, and the message names exactly the rows the table holds.
    expect(new Set(held.map((r) => r[0])).size).toBe(held.length);
    expect(failed.stderr).toContain(`it holds ${held.length.toLocaleString('en-US')} rows of ${file} in table "seed" (rows ${idRanges(held)})`);
    const unknown = /rows ([\d,]+)-([\d,]+) of \S+ may or may not have been added to table "seed"/.exec(failed.stderr);
    expect(unknown).not.toBeNull();
    const [from, to] = [unknown![1]!, unknown![2]!].map((n) => Number(n.replace(/,/g, '')));
    expect(to! - from! + 1).toBe(1000);
    // The injected 503 applied nothing, and the batch was not sent again.
    expect(held.some((r) => Number(r[0]) >= from! && Number(r[0]) <= to!)).toBe(false);
    const log = pbi.current().state.postRowsLog();
    const refused = log.filter((r) => r.status === 503);
    expect(refused).toHaveLength(1);
    expect(log.filter((r) => r.bodySha256 === refused[0]!.bodySha256)).toHaveLength(1);
    expect(failed.stderr).toContain(`reload the table with: mstrpush append ${created.datasetId} ${file}:seed --policy replace`);

    const plain = await append();
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('an unfinished run of this command left dataset');
    const resumed = await append('--resume');
    expect(resumed.code).toBe(7);
    expect(resumed.stderr).toContain('cannot be continued exactly');
    expect(resumed.stderr).toContain(`rows ${unknown![1]}-${unknown![2]} were on their way when it stopped`);
    expect(pbi.rowsOf(created.datasetId)).toHaveLength(held.length + 1);

    const replaced = await append('--policy', 'replace', '--json');
    expect(jsonResult(replaced)).toMatchObject({ policy: 'replace', tables: [{ rows: ROWS }] });
    expectExactly(pbi, created.datasetId);
    expect(journals('daily')).toEqual([]);
  });
});

describe('interrupting an upload', () => {
  // Each POST is held 60 ms, so the upload of 20 batches takes long enough to be caught mid-way.
  const pbi = usePowerBi({ postRowsDelayMs: 60 });

  function stopped(name: string, signals: NodeJS.Signals[], extra: string[] = []): Promise<CliResult> {
    return runCli(createArgs(name, ...extra).filter((a) => a !== '--json'), {
      env: pbi.env(),
      onSpawn: (child) => {
        void waitFor(() => {
          const [dataset] = pbi.datasets(name);
          return (dataset?.tables[0]?.rowCount ?? 0) >= 3000;
        }).then(() => {
          for (const signal of signals) child.kill(signal);
        });
      },
    });
  }

  it.each(['SIGINT', 'SIGTERM'] as const)('on %s stops, deletes the new dataset again and exits 130', async (signal) => {
    const name = `Interrupted-${signal}`;
    const result = await stopped(name, [signal]);
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(`${signal} received, stopping`);
    expect(result.stderr).toMatch(new RegExp(`interrupted: dataset "${name}" \\([0-9a-f-]{36}\\) was deleted again, so the workspace holds what it held before this run`));
    expect(pbi.datasets(name)).toEqual([]);
    expect(journals(name)).toEqual([]);
  });

  it('quits at once on a second Ctrl-C', async () => {
    const result = await stopped('Twice', ['SIGINT', 'SIGINT']);
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('press Ctrl-C again to quit at once');
  });

  it('with --keep-session keeps what was confirmed, and --resume sends each remaining batch once, from the first unconfirmed one', async () => {
    const result = await stopped('Kept', ['SIGINT'], ['--keep-session']);
    expect(result.code).toBe(130);
    const [dataset] = pbi.datasets('Kept');
    const held = pbi.rowsOf(dataset!.id);
    expect(result.stderr).toContain(`interrupted: dataset "Kept" (${dataset!.id}) was kept (--keep-session): it holds ${held.length.toLocaleString('en-US')} rows of ${file} in table "orders" (rows ${idRanges(held)})`);
    expect(result.stderr).toMatch(/continue with: mstrpush create .*orders\.csv --name Kept .*--resume/);
    expect(journals('Kept')).toHaveLength(1);

    const before = pbi.current().state.postRowsLog().filter((r) => r.datasetId === dataset!.id && r.status === 200).length;
    const resumed = await runCli(createArgs('Kept', '--resume'), { env: pbi.env() });
    const out = jsonResult(resumed);
    expect(out).toMatchObject({ datasetId: dataset!.id, reloads: 0, tables: [{ rows: ROWS, chunks: 20 }] });
    expect(resumed.stderr).toContain(`table "orders": continuing after the ${held.length.toLocaleString('en-US')} rows the unfinished run loaded`);
    const accepted = pbi.current().state.postRowsLog().filter((r) => r.datasetId === dataset!.id && r.status === 200);
    expect(accepted).toHaveLength(20);
    expect(accepted.length - before).toBe(20 - held.length / 1000);
    expectExactly(pbi, dataset!.id);
    expect(pbi.datasets('Kept')).toHaveLength(1);
    expect(journals('Kept')).toEqual([]);
  });

  it('after kill -9, refuses a plain rerun, and --resume ends with every row once in the same dataset', async () => {
    const killed = await stopped('Killed', ['SIGKILL']);
    expect(killed.signal).toBe('SIGKILL');
    const [dataset] = pbi.datasets('Killed');
    expect(journals('Killed')).toHaveLength(1);
    // Requests the dead process had in flight still land; a later run finds them settled.
    await waitFor(() => pbi.pending(dataset!.id) === 0);

    const plain = await runCli(createArgs('Killed'), { env: pbi.env() });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(`an unfinished run of this command left dataset "Killed" (${dataset!.id}) part-loaded: table "orders": `);
    expect(plain.stderr).toMatch(/--resume.*--restart/);

    const resumed = await runCli(createArgs('Killed', '--resume'), { env: pbi.env() });
    const out = jsonResult(resumed);
    expect(out.datasetId).toBe(dataset!.id);
    expect(resumed.stderr).toContain('continuing the unfinished run');
    expectExactly(pbi, dataset!.id);
    expect(pbi.datasets('Killed')).toHaveLength(1);
    expect(journals('Killed')).toEqual([]);
  });

  it('after kill -9, refuses --resume once the file changed, and --restart starts over in a new dataset', async () => {
    const changing = path.join(scratch.dir, 'changing.csv');
    writeFileSync(changing, `order_id,customer,total\n${Array.from({ length: ROWS }, (_, i) => `${i + 1},c,1.5`).join('\n')}\n`);
    const args = (...extra: string[]) => ['create', changing, '--name', 'Changing', '--batch-rows', BATCH, '--state-dir', stateDir('Changing'), ...extra];
    await runCli(args(), {
      env: pbi.env(),
      onSpawn: (child) => {
        void waitFor(() => (pbi.datasets('Changing')[0]?.tables[0]?.rowCount ?? 0) >= 3000).then(() => child.kill('SIGKILL'));
      },
    });
    const [first] = pbi.datasets('Changing');
    await waitFor(() => pbi.pending(first!.id) === 0);
    appendFileSync(changing, `${ROWS + 1},late,2.5\n`);

    const refused = await runCli(args('--resume'), { env: pbi.env() });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('the file changed since the unfinished run, which therefore cannot be continued');
    expect(refused.stderr).toContain('--restart');

    const restarted = jsonResult(await runCli(args('--restart', '--json'), { env: pbi.env() }));
    expect(pbi.datasets('Changing')).toEqual([expect.objectContaining({ id: restarted.datasetId })]);
    expect(restarted.datasetId).not.toBe(first!.id);
    expect(pbi.rowsOf(restarted.datasetId)).toHaveLength(ROWS + 1);
  });

  it('runs plainly with --resume when there is nothing to resume', async () => {
    const out = jsonResult(await runCli(createArgs('Fresh', '--resume'), { env: pbi.env() }));
    expectExactly(pbi, out.datasetId);
  });
});

describe('sign-in', () => {
  const pbi = usePowerBi();
  it('exits 5 on a wrong client secret, and shows no secret', async () => {
    const result = await runCli(['status', '00000000-0000-4000-8000-000000000000', '--verbose', '--debug'], { env: { ...pbi.env(), MSTRPUSH_CLIENT_SECRET: 'Wr0ng-S3cret-value' } });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('invalid_client');
    expect(result.stderr).toContain('check the client secret');
    expect(result.stdout + result.stderr).not.toContain('Wr0ng-S3cret-value');
  });

  it('exits 6 when the service is down, after one line per retry', async () => {
    const result = await runCli(['status', '00000000-0000-4000-8000-000000000000', '--retries', '2'], {
      env: { ...pbi.env(), MSTRPUSH_API_URL: 'http://127.0.0.1:9/v1.0/myorg', MSTRPUSH_AUTHORITY_URL: 'http://127.0.0.1:9' },
    });
    expect(result.code).toBe(6);
    expect(result.stderr.match(/sign-in failed \(ECONNREFUSED\); retry \d of 2/g)).toHaveLength(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('secrets', () => {
  const pbi = usePowerBi({ clientSecret: 'S3cret-App-Key~value', faults: ['rows#2=503', 'rows#3=expire-token'] });
  it('never appear in any output, even with --verbose and --debug and on failure', async () => {
    const state = pbi.current().state;
    const issued: string[] = [];
    const issue = state.issueToken.bind(state);
    state.issueToken = (...args: Parameters<typeof issue>) => {
      const token = issue(...args);
      issued.push(token.token);
      return token;
    };
    const ok = await runCli(createArgs('Secrets', '--verbose', '--debug'), { env: pbi.env() });
    const failed = await runCli(['create', path.join(scratch.dir, 'missing.csv'), '--name', 'X', '--verbose', '--debug'], { env: pbi.env() });
    expect(ok.code).toBe(0);
    expect(failed.code).toBe(4);
    expect(issued.length).toBeGreaterThanOrEqual(3);
    for (const run of [ok, failed]) {
      const output = run.stdout + run.stderr;
      expect(output).not.toContain('S3cret-App-Key');
      for (const token of issued) {
        expect(output).not.toContain(token);
        expect(output).not.toContain(token.split('.')[2]!);
      }
    }
    expect(ok.stderr).toMatch(/POST \/[0-9a-f-]+\/oauth2\/v2\.0\/token → 200/);
  });
});
