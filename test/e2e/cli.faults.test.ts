// The reliability matrix: each fault injected into the emulator must end in exactly the data a
// clean run leaves, or in a loud, clean failure with the upload session cancelled.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { jsonResult, makeSandbox, runCli, useEmulator } from '../helpers/cli.js';
import type { MstrEmulatorOptions } from '../../src/emulator/mstr/server.js';

const scratch = makeSandbox();
afterAll(() => scratch.cleanup());

const ROWS = 20_000;
const file = path.join(scratch.dir, 'orders.csv');
const expected: string[][] = [];
beforeAll(() => {
  const lines = ['order_id,customer,total,placed'];
  for (let i = 1; i <= ROWS; i++) {
    const total = `${(i * 7) % 1000}.${String(i % 100).padStart(2, '0')}`;
    const day = `2026-0${(i % 9) + 1}-${String((i % 28) + 1).padStart(2, '0')}`;
    lines.push(`${i},"Customer ${i % 311}, Ltd",${total},${day}`);
    expected.push([String(i), `Customer ${i % 311}, Ltd`, total, day]);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
});

// 64 KB chunks make about a dozen chunk PUTs, so faults on the 2nd, 3rd or 4th land mid-upload.
const createArgs = (name: string, ...extra: string[]) => [
  'create', file, '--name', name, '--chunk-size', '64KB', '--json', '--poll-interval', '50ms', '--state-dir', path.join(scratch.dir, 'state'), ...extra,
];

function scenario(faults: string[], extra: Partial<MstrEmulatorOptions> = {}) {
  return useEmulator({ faults, publishPolls: 1, ...extra });
}

function datasetsNamed(emulator: ReturnType<typeof scenario>, name: string) {
  return emulator.current().state.listDatasets().filter((d) => d.name === name);
}

function expectExactLoad(emulator: ReturnType<typeof scenario>, datasetId: string) {
  const inspection = emulator.current().state.inspectDataset(datasetId)!;
  expect(inspection.publishes).toBe(1);
  expect(inspection.tables[0]!.rowCount).toBe(ROWS);
  expect(inspection.tables[0]!.rows).toEqual(expected);
  return inspection;
}

describe('503 on a chunk', () => {
  const emulator = scenario(['chunk#2=503']);
  it('retries the chunk with the same index and loads every row once', async () => {
    const result = await runCli(createArgs('Chunk503'), { env: emulator.env() });
    const out = jsonResult(result);
    expectExactLoad(emulator, out.datasetId);
    expect(result.stderr).toMatch(/chunk 2 of table orders failed \(HTTP 503 ERR016\); retry 1 of 5 in \d+\.\d s/);
    expect(emulator.current().state.faultLog).toHaveLength(1);
  });
});

describe('connection reset before the server stored a chunk', () => {
  const emulator = scenario(['chunk#3=reset-before']);
  it('sends the chunk again and loads every row once', async () => {
    const result = await runCli(createArgs('ResetBefore'), { env: emulator.env() });
    expectExactLoad(emulator, jsonResult(result).datasetId);
    expect(result.stderr).toMatch(/chunk 3 of table orders failed \((UND_ERR_SOCKET|ECONNRESET|EPIPE)\); retry 1 of 5/);
  });
});

describe('connection reset after the server stored a chunk', () => {
  const emulator = scenario(['chunk#3=reset-after']);
  it('resends the same index, which replaces the stored chunk, so no row is doubled', async () => {
    const result = await runCli(createArgs('ResetAfter'), { env: emulator.env() });
    const inspection = expectExactLoad(emulator, jsonResult(result).datasetId);
    const indexes = inspection.uploadSessions[0]!.chunks.orders!;
    expect(indexes).toEqual([...indexes.keys()].map((i) => i + 1));
    expect(result.stderr).toMatch(/chunk 3 of table orders failed/);
  });
});

describe('429 with Retry-After', () => {
  const emulator = scenario(['model=429:1', 'chunk#2=429:1']);
  it('waits as told on creating the model and on a chunk, and creates exactly one dataset', async () => {
    const started = Date.now();
    const result = await runCli(createArgs('Throttled'), { env: emulator.env() });
    const out = jsonResult(result);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expectExactLoad(emulator, out.datasetId);
    expect(datasetsNamed(emulator, 'Throttled')).toHaveLength(1);
    expect(result.stderr).toMatch(/POST \/datasets\/models failed \(HTTP 429 ERR016\); retry 1 of 5 in 1\.0 s/);
    expect(result.stderr).toMatch(/chunk 2 of table orders failed \(HTTP 429 ERR016\); retry 1 of 5 in 1\.0 s/);
  });
});

describe('creating the model fails after the server stored it', () => {
  const emulator = scenario(['model=reset-after']);
  it('finds the new dataset in the folder instead of creating a second one', async () => {
    const result = await runCli(createArgs('ModelStored'), { env: emulator.env() });
    const out = jsonResult(result);
    expect(datasetsNamed(emulator, 'ModelStored')).toEqual([expect.objectContaining({ id: out.datasetId })]);
    expectExactLoad(emulator, out.datasetId);
    expect(result.stderr).toContain('but the server stored it: continuing with');
  });
});

describe('creating the model fails with a 503', () => {
  const emulator = scenario(['model=503']);
  it('checks the folder, sees nothing was stored, and creates it once', async () => {
    const result = await runCli(createArgs('ModelNotStored'), { env: emulator.env() });
    const out = jsonResult(result);
    expect(datasetsNamed(emulator, 'ModelNotStored')).toHaveLength(1);
    expectExactLoad(emulator, out.datasetId);
    expect(result.stderr).toContain('the server did not store it; trying again');
  });
});

describe('the login expires mid-upload', () => {
  const emulator = scenario(['chunk#4=expire-login']);
  it('logs in again and continues the same upload session', async () => {
    const result = await runCli(createArgs('Relogin'), { env: emulator.env() });
    const inspection = expectExactLoad(emulator, jsonResult(result).datasetId);
    expect(inspection.uploadSessions).toHaveLength(1);
    expect(result.stderr).toContain('chunk 4 of table orders: the login expired; logging in again');
  });
});

describe('publishing fails after the server accepted it', () => {
  const emulator = scenario(['publish=reset-after']);
  it('sees from the publish status that it started, and waits for it instead of publishing twice', async () => {
    const result = await runCli(createArgs('PublishReset'), { env: emulator.env() });
    expectExactLoad(emulator, jsonResult(result).datasetId);
  });
});

describe('a chunk keeps failing', () => {
  const emulator = scenario(['chunk#2*inf=503']);
  it('gives up after --retries, cancels the upload session and exits 7', async () => {
    const result = await runCli(createArgs('GivesUp', '--retries', '2'), { env: emulator.env() });
    expect(result.code).toBe(7);
    expect(result.stderr.match(/retry \d of 2/g)).toEqual(['retry 1 of 2', 'retry 2 of 2']);
    expect(result.stderr).toMatch(/upload session [0-9A-F]{32} was cancelled and nothing was published/);
    const [dataset] = datasetsNamed(emulator, 'GivesUp');
    const inspection = emulator.current().state.inspectDataset(dataset!.id)!;
    expect(inspection.publishes).toBe(0);
    expect(inspection.tables[0]!.rowCount).toBe(0);
    expect(inspection.uploadSessions[0]).toMatchObject({ state: 'cancelled', deleted: true });
  });
});

describe('a request that is not transient', () => {
  const emulator = scenario(['chunk#2=403']);
  it('is not retried', async () => {
    const result = await runCli(createArgs('Forbidden'), { env: emulator.env() });
    expect(result.code).toBe(7);
    expect(result.stderr).not.toMatch(/retry \d/);
    expect(result.stderr).toMatch(/403 ERR014/);
  });
});

describe('the server is down', () => {
  it('exits 6 after the retries, one line per retry', async () => {
    const result = await runCli(['status', 'ABC', '--retries', '2'], {
      env: { MSTRPUSH_URL: 'http://127.0.0.1:9/MicroStrategyLibrary/api', MSTRPUSH_USERNAME: 'etl', MSTRPUSH_PASSWORD: 'etl-secret', MSTRPUSH_PROJECT_ID: 'B7CA92F04B9FAE8D941C3E9B7E0CD754' },
    });
    expect(result.code).toBe(6);
    expect(result.stderr.match(/login failed \(ECONNREFUSED\); retry \d of 2/g)).toHaveLength(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('secrets', () => {
  const emulator = scenario(['chunk#2=503', 'chunk#3=expire-login'], { users: [{ username: 'etl', password: 'Tr0ub4dor&3-secret' }] });
  it('never appear in any output, even with --verbose and --debug and on failure', async () => {
    const state = emulator.current().state;
    const issued: string[] = [];
    const login = state.login.bind(state);
    state.login = (...args: Parameters<typeof login>) => {
      const session = login(...args);
      issued.push(session.token, session.jsessionId);
      return session;
    };
    const env = { ...emulator.env(), MSTRPUSH_PASSWORD: 'Tr0ub4dor&3-secret' };
    const ok = await runCli(createArgs('Secrets', '--verbose', '--debug'), { env });
    const failed = await runCli(['create', path.join(scratch.dir, 'missing.csv'), '--name', 'X', '--verbose', '--debug'], { env });
    const badPassword = await runCli(['status', 'ABC', '--verbose', '--debug'], { env: { ...env, MSTRPUSH_PASSWORD: 'Wr0ng-Pa55word!' } });
    expect(ok.code).toBe(0);
    expect(issued.length).toBeGreaterThanOrEqual(4);
    for (const run of [ok, failed, badPassword]) {
      const output = run.stdout + run.stderr;
      expect(output).not.toContain('Tr0ub4dor');
      expect(output).not.toContain('Wr0ng-Pa55word');
      for (const secret of issued) expect(output).not.toContain(secret);
    }
    expect(ok.stderr).toContain('POST /MicroStrategyLibrary/api/auth/login');
    expect(badPassword.code).toBe(5);
  });
});
