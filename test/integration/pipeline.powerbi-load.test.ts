// The Power BI load pipeline in-process against the emulator over real HTTP: CSV files read by the
// real source, typed by the real scan, pushed, paced and resent; every stored cell compared with
// a value computed here from the generated source.

import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CLIENT, DEFAULT_TENANT, DEFAULT_WORKSPACE, startPowerBiEmulator } from '../../src/emulator/powerbi/server.js';
import type { Cell, PowerBiEmulator, PowerBiEmulatorOptions } from '../../src/emulator/powerbi/server.js';
import { HttpClient } from '../../src/http/client.js';
import { formatPowerBiStatus, powerBiTypeOverrides, runPowerBiAppend, runPowerBiCreate, runPowerBiStatus } from '../../src/pipeline/powerbi-load.js';
import type { PowerBiLoadTable, PowerBiPushSettings, PowerBiResume } from '../../src/pipeline/powerbi-load.js';
import type { ProgressSink } from '../../src/pipeline/progress.js';
import { scanTable } from '../../src/pipeline/scan.js';
import type { WireType } from '../../src/schema/types.js';
import { DEFAULT_NULL_TOKENS } from '../../src/schema/values.js';
import { openCsvSource } from '../../src/sources/csv.js';
import type { TableSource } from '../../src/sources/types.js';
import { POWERBI_JOURNAL_VERSION, PowerBiJournalStore, PowerBiRunJournal } from '../../src/state/powerbi-journal.js';
import type { PowerBiJournal } from '../../src/state/powerbi-journal.js';
import { connectPowerBi } from '../../src/targets/powerbi/client.js';
import type { PowerBiClient } from '../../src/targets/powerbi/client.js';

let dir: string;
const emulators: PowerBiEmulator[] = [];
const clients: HttpClient[] = [];
const sources: TableSource[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mstrpush-pbi-'));
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function setUp(options: PowerBiEmulatorOptions = {}, secret = DEFAULT_CLIENT.clientSecret): Promise<{ emulator: PowerBiEmulator; client: PowerBiClient }> {
  const emulator = await startPowerBiEmulator(options);
  emulators.push(emulator);
  const http = new HttpClient({ userAgent: 'mstrpush-test' });
  clients.push(http);
  const client = connectPowerBi({
    http,
    apiUrl: emulator.apiUrl,
    authorityUrl: emulator.authorityUrl,
    tenant: DEFAULT_TENANT,
    clientId: DEFAULT_CLIENT.clientId,
    clientSecret: secret,
    group: DEFAULT_WORKSPACE.id,
    // Short backoff: reloads after an unknown answer wait by this policy too.
    retryPolicy: { retries: 5, baseDelayMs: 10, maxDelayMs: 100, deadlineMs: 60_000 },
  });
  return { emulator, client };
}

/** Writes `text` to a file, opens it as a CSV source and types its columns with the real scan. */
async function csvTable(name: string, text: string, typeOverrides: ReadonlyMap<string, WireType> = new Map()): Promise<PowerBiLoadTable> {
  const file = path.join(dir, `${name}-${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(file, text);
  const source = await openCsvSource(file, { header: true, batchRows: 257 });
  sources.push(source);
  const scan = await scanTable({ table: name, source, nullTokens: DEFAULT_NULL_TOKENS, typeOverrides, roleOverrides: new Map(), progress: recorder().sink });
  return { table: name, source, columns: scan.columns };
}

interface Recorded {
  sink: ProgressSink;
  infos: string[];
  warnings: string[];
  waits: Array<{ until: number; reason: string } | undefined>;
}

/** A sink that keeps what it is told; `onProgress` sees the rows of the upload pass only. */
function recorder(onProgress?: (rows: number) => void, withWaiting = false): Recorded {
  let pass = '';
  const recorded: Recorded = {
    infos: [],
    warnings: [],
    waits: [],
    sink: {
      step() {},
      stepDone() {},
      startTable(start) {
        pass = start.pass;
      },
      progress(update) {
        if (pass === 'upload') onProgress?.(update.rows);
      },
      endTable() {},
      warn(line) {
        recorded.warnings.push(line);
      },
      info(line) {
        recorded.infos.push(line);
      },
    },
  };
  if (withWaiting) recorded.sink.waiting = (wait) => recorded.waits.push(wait);
  return recorded;
}

function settings(progress: ProgressSink, extra: Partial<PowerBiPushSettings> = {}): PowerBiPushSettings {
  return { nullTokens: DEFAULT_NULL_TOKENS, progress, ...extra };
}

function catchError(promise: Promise<unknown>): Promise<any> {
  return promise.then(
    () => {
      throw new Error('expected an error');
    },
    (error: unknown) => error,
  );
}

/** A CSV of ids 1..n (plus a label), for tests about counting rows rather than values. */
function idCsv(from: number, to: number): string {
  const lines = ['id,label'];
  for (let i = from; i <= to; i++) lines.push(`${i},row ${i}`);
  return `${lines.join('\n')}\n`;
}

function storedIds(emulator: PowerBiEmulator, datasetId: string, table = 'data'): string[] {
  const rows = emulator.state.inspectDataset(datasetId)!.tables.find((t) => t.name === table)!.rows!;
  return rows.map((r) => r[0] as string);
}

function expectEachIdOnce(ids: readonly string[], from: number, to: number): void {
  expect(ids).toHaveLength(to - from + 1);
  expect([...ids].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
}

// ---------------------------------------------------------------------------------------------
// A seeded mixed-type file and the cells Power BI must hold for it

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function quoteCsv(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function mixedCsv(rows: number, seed: number): { text: string; expected: Map<string, Cell[]> } {
  const rnd = random(seed);
  const int = (max: number) => Math.floor(rnd() * max);
  const header = ['id', 'big', 'amount', 'wide', 'flag', 'day', 'at', 'clock', 'text'];
  const lines = [header.join(',')];
  const expected = new Map<string, Cell[]>();
  const words = ['plain', 'with, comma', 'say "hi"', 'two\nlines', 'Grüße 😀', '  spaced  '];
  for (let r = 1; r <= rows; r++) {
    const nullable = (value: string): string | null => (r > 1 && rnd() < 0.1 ? null : value);
    const id = String(r);
    const big = nullable(String((BigInt(int(2 ** 30)) << 30n) * 7n + BigInt(int(1000)) - 5n * 10n ** 17n));
    const amount = nullable(`${int(100000) - 50000}.${pad(int(100))}`);
    const wide = nullable(`${int(9) + 1}${String(int(1e9)).padStart(9, '0')}${String(int(1e8)).padStart(8, '0')}.${pad(int(100))}`);
    const flag = nullable(rnd() < 0.5 ? 'TRUE' : 'false');
    const date = `${2000 + int(30)}-${pad(1 + int(12))}-${pad(1 + int(28))}`;
    const day = nullable(date);
    const ms = int(4) === 0 ? `.${String(int(1000)).padStart(3, '0')}` : '';
    const time = `${pad(int(24))}:${pad(int(60))}:${pad(int(60))}`;
    const zones = ['Z', '+02:00', '-05:30', ''];
    const zone = zones[int(zones.length)]!;
    const at = nullable(zone === '' ? `${date} ${time}${ms}` : `${date}T${time}${ms}${zone}`);
    const clock = nullable(time);
    const text = nullable(words[int(words.length)]!);
    const cells = [id, big, amount, wide, flag, day, at, clock, text];
    lines.push(cells.map((c) => (c === null ? '' : quoteCsv(c))).join(','));

    // What the service stores, computed without the code under test.
    const trimFraction = (s: string) => s.replace(/\.(\d*?)0+(?=Z?$)/, (_, kept: string) => (kept ? `.${kept}` : ''));
    const atCell = (): Cell => {
      if (at === null) return null;
      if (zone === '') return trimFraction(`${date}T${time}${ms}`);
      return trimFraction(new Date(at).toISOString());
    };
    expected.set(id, [
      id,
      big === null ? null : BigInt(big).toString(),
      amount === null ? null : String(Number(amount)),
      wide,
      flag === null ? null : flag.toLowerCase() === 'true',
      day === null ? null : `${day}T00:00:00`,
      atCell(),
      clock,
      text,
    ]);
  }
  return { text: `${lines.join('\n')}\n`, expected };
}

// ---------------------------------------------------------------------------------------------

describe('runPowerBiCreate', () => {
  it('creates the dataset with Power BI types and stores every cell of the file', async () => {
    const { emulator, client } = await setUp();
    const { text, expected } = mixedCsv(3000, 20260521);
    const table = await csvTable('mixed', text);
    expect(table.columns.map((c) => c.type)).toEqual(['INTEGER', 'BIGINTEGER', 'DOUBLE', 'BIGDECIMAL', 'BOOL', 'DATE', 'DATETIME', 'TIME', 'STRING']);
    const progress = recorder();
    const result = await runPowerBiCreate(client, [table], { ...settings(progress.sink, { batchRows: 500 }), name: 'Mixed', retention: 'none' });

    expect(result).toMatchObject({ name: 'Mixed', group: DEFAULT_WORKSPACE.id, retention: 'none', policy: 'create', throttled: 0, tokenRefreshes: 0 });
    expect(result.tables).toEqual([
      {
        name: 'mixed',
        rows: 3000,
        chunks: 6,
        bytes: expect.any(Number),
        columns: [
          { name: 'id', type: 'Int64' },
          { name: 'big', type: 'Int64' },
          { name: 'amount', type: 'Double' },
          { name: 'wide', type: 'Decimal' },
          { name: 'flag', type: 'Boolean' },
          { name: 'day', type: 'DateTime' },
          { name: 'at', type: 'DateTime' },
          { name: 'clock', type: 'String' },
          { name: 'text', type: 'String' },
        ],
      },
    ]);
    const stored = emulator.state.inspectDataset(result.datasetId)!;
    expect(stored).toMatchObject({ name: 'Mixed', groupId: DEFAULT_WORKSPACE.id, defaultRetentionPolicy: 'None' });
    const rows = stored.tables[0]!.rows!;
    expect(rows).toHaveLength(3000);
    // Up to five batches are in flight, so batches may land in any order; rows are matched by id.
    const byId = new Map(rows.map((row) => [row[0] as string, row]));
    expect(byId.size).toBe(3000);
    for (const [id, cells] of expected) expect(byId.get(id)).toEqual(cells);
    expect(progress.warnings).toEqual([]);
  });

  it('refuses a table of 76 columns before sending any request, naming the column', async () => {
    const { emulator, client } = await setUp();
    const header = Array.from({ length: 76 }, (_, i) => `c${i + 1}`);
    const table = await csvTable('wide', `${header.join(',')}\n${header.map(() => '1').join(',')}\n`);
    const error = await catchError(runPowerBiCreate(client, [table], { ...settings(recorder().sink), name: 'Wide', retention: 'none' }));
    expect(error).toMatchObject({ code: 'INPUT_SCHEMA', location: { line: 1, column: 'c76' } });
    expect(error.message).toContain('has 76 columns, more than the 75 Power BI allows; column 76 "c76"');
    expect(emulator.state.stats.requests).toBe(0);
  });

  it('refuses a string over 4,000 characters before sending any request, naming row, line and column', async () => {
    const { emulator, client } = await setUp();
    const long = 'y'.repeat(4001);
    const table = await csvTable('notes', `id,notes\n1,short\n2,"two\nlines"\n3,${long}\n4,after\n`);
    const error = await catchError(runPowerBiCreate(client, [table], { ...settings(recorder().sink), name: 'Notes', retention: 'none' }));
    expect(error).toMatchObject({ code: 'INPUT_VALUE', location: { line: 5, column: 'notes' } });
    expect(error.message).toMatch(/notes-[a-z0-9]+\.csv:5: row 3, column "notes": the value has 4,001 characters, more than the 4,000 Power BI accepts$/);
    expect(emulator.state.stats.requests).toBe(0);
  });

  it('says before starting when the hourly row cap stretches the push, and until when', async () => {
    // One emulated hour per real second, and a cap of 300 rows per hour: 700 rows need three hours.
    const { emulator, client } = await setUp({ timeScale: 3600, rowsPerHour: 300 });
    const table = await csvTable('data', idCsv(1, 700));
    const progress = recorder();
    const started = Date.now();
    const result = await runPowerBiCreate(client, [table], {
      ...settings(progress.sink, { batchRows: 50, timeScale: 3600, limits: { rowsPerHour: 300 }, estimateRequestMs: 20 }),
      name: 'Capped',
      retention: 'none',
      formatTime: (ms) => `T+${Math.round((ms - started) / 1000)}s`,
    });
    expect(progress.warnings).toHaveLength(1);
    expect(progress.warnings[0]).toMatch(/^Power BI takes at most 300 rows per hour per dataset: pushing 700 rows takes about 2 s, until about T\+2s$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(result.throttled).toBe(0);
    expect(emulator.state.stats.throttled['rows-per-hour']).toBe(0);
    expectEachIdOnce(storedIds(emulator, result.datasetId), 1, 700);
  });

  it('deletes the new dataset again when the push fails part way, leaving the workspace as it was', async () => {
    const { emulator, client } = await setUp({ maxRowsPerPost: 100 });
    const table = await csvTable('data', idCsv(1, 350));
    const error = await catchError(
      runPowerBiCreate(client, [table], { ...settings(recorder().sink, { batchRows: 150, concurrency: 1 }), name: 'Half', retention: 'none' }),
    );
    expect(error).toMatchObject({ code: 'UPLOAD_PARTIAL' });
    expect(error.message).toMatch(/^.*at most 100 rows can be posted in one request.*; dataset "Half" \([0-9a-f-]{36}\) was deleted again, so the workspace holds what it held before this run$/);
    expect(error.hint).toContain('run the same command again once the cause is fixed');
    expect(emulator.state.summarize()).toEqual([]);
  });

  it('keeps the new dataset when told to, and says what it holds', async () => {
    const { emulator, client } = await setUp({ maxRowsPerPost: 100 });
    const table = await csvTable('data', idCsv(1, 350));
    const error = await catchError(
      runPowerBiCreate(client, [table], { ...settings(recorder().sink, { batchRows: 150, concurrency: 1 }), name: 'Half', retention: 'none', keepDataset: true }),
    );
    expect(error).toMatchObject({ code: 'UPLOAD_PARTIAL' });
    const [dataset] = emulator.state.summarize();
    expect(error.message).toContain(`dataset "Half" (${dataset!.id}) was kept (--keep-session): no rows of this run were added`);
    expect(error.hint).toContain(`mstrpush append ${dataset!.id}`);
  });

  it('stops sending after a refused batch and reports exactly the rows the table holds', async () => {
    // The service refuses strings over 10 characters here; the file's row 2,345 has a longer one.
    const { emulator, client } = await setUp({ maxStringLength: 10 });
    const lines = ['id,label'];
    for (let i = 1; i <= 3000; i++) lines.push(`${i},${i === 2345 ? 'far too long a label' : `r${i}`}`);
    const table = await csvTable('data', `${lines.join('\n')}\n`);
    const error = await catchError(runPowerBiCreate(client, [table], { ...settings(recorder().sink, { batchRows: 100 }), name: 'Stop', retention: 'none', keepDataset: true }));
    expect(error).toMatchObject({ code: 'UPLOAD_PARTIAL' });
    const held = emulator.state.summarize()[0]!.tables[0]!.rowCount;
    expect(error.message).toContain(`it holds ${held.toLocaleString('en-US')} rows of ${table.source.displayName} in table "data" (rows `);
    // The refused batch applied nothing, so it is not among the rows of unknown fate.
    expect(error.message).not.toContain('may or may not');
    expect(error.message).toContain('limited to 10 characters');
    // Batches after the refused one (rows 2,301-2,400) were not sent, beyond the few already in flight.
    expect(held).toBeGreaterThanOrEqual(2300);
    expect(held).toBeLessThanOrEqual(2300 + 4 * 100);
    expect(emulator.state.postRowsLog().filter((r) => r.status === 200).length * 100).toBe(held);
  });

  it('reports a wrong client secret as an authentication failure with a hint', async () => {
    const { client } = await setUp({}, 'wrong-secret');
    const table = await csvTable('data', idCsv(1, 3));
    const error = await catchError(runPowerBiCreate(client, [table], { ...settings(recorder().sink), name: 'X', retention: 'none' }));
    expect(error).toMatchObject({ code: 'AUTH_FAILED' });
    expect(error.message).toContain('400 invalid_client "AADSTS7000215: Invalid client secret provided.');
    expect(error.message).not.toContain('wrong-secret');
    expect(error.hint).toContain('client secret');
  });
});

describe('pacing and throttling', () => {
  it('crosses the per-minute limit without a 429: 150 requests paced to 120 per (scaled) minute, every row once', async () => {
    const { emulator, client } = await setUp({ timeScale: 60 });
    const table = await csvTable('data', idCsv(1, 1500));
    const progress = recorder(undefined, true);
    const result = await runPowerBiCreate(client, [table], {
      ...settings(progress.sink, { batchRows: 10, timeScale: 60 }),
      name: 'Paced',
      retention: 'none',
    });
    expect(result.tables[0]).toMatchObject({ rows: 1500, chunks: 150 });
    expect(result.throttled).toBe(0);
    expect(result.paced).toBeGreaterThan(0);
    const log = emulator.state.postRowsLog();
    expect(log.every((r) => r.status === 200)).toBe(true);
    expect(new Set(log.map((r) => r.bodySha256)).size).toBe(150);
    // No emulated minute (one real second) ever saw more than 120 requests arrive.
    const arrivals = log.map((r) => r.arrivedAt).sort((a, b) => a - b);
    const busiest = Math.max(...arrivals.map((t, i) => arrivals.filter((u, j) => j <= i && u > t - 1000).length));
    expect(busiest).toBeLessThanOrEqual(120);
    expect(arrivals[arrivals.length - 1]! - arrivals[0]!).toBeGreaterThanOrEqual(1000 - 50);
    expect(progress.waits.some((w) => w?.reason === '120 POST rows requests per minute per dataset')).toBe(true);
    expect(progress.waits[progress.waits.length - 1]).toBeUndefined();
    expectEachIdOnce(storedIds(emulator, result.datasetId), 1, 1500);
  });

  /** Every 429 in the emulator's log was followed by the same body, sent no earlier than Retry-After allowed. */
  function expectEvery429Resent(emulator: PowerBiEmulator, batches: number): void {
    const log = emulator.state.postRowsLog();
    for (const refusal of log.filter((r) => r.status === 429)) {
      const resend = log.find((r) => r.seq > refusal.seq && r.bodySha256 === refusal.bodySha256);
      expect(resend).toBeDefined();
      // Timers may fire a millisecond early; the wait itself is the full Retry-After.
      expect(resend!.arrivedAt).toBeGreaterThanOrEqual(refusal.answeredAt + refusal.retryAfterSeconds! * 1000 - 5);
    }
    const accepted = log.filter((r) => r.status === 200);
    expect(accepted).toHaveLength(batches);
    expect(new Set(accepted.map((r) => r.bodySha256)).size).toBe(batches);
  }

  it('answers every 429 for the per-minute limit by waiting out Retry-After and resending the same batch, losing and doubling nothing', async () => {
    // The service is stricter than documented here: 60 requests per (scaled) minute, not 120.
    const { emulator, client } = await setUp({ timeScale: 60, postsPerMinute: 60 });
    const table = await csvTable('data', idCsv(1, 1000));
    const progress = recorder();
    const result = await runPowerBiCreate(client, [table], { ...settings(progress.sink, { batchRows: 10, timeScale: 60 }), name: 'Throttled', retention: 'none' });

    const throttled = emulator.state.postRowsLog().filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(new Set(throttled.map((r) => r.reason))).toEqual(new Set(['posts-per-minute']));
    expect(result.throttled).toBe(throttled.length);
    expect(progress.infos.filter((l) => l.startsWith('Power BI answered 429'))).toHaveLength(throttled.length);
    expectEvery429Resent(emulator, 100);
    expectEachIdOnce(storedIds(emulator, result.datasetId), 1, 1000);
  });

  it('answers 429s for pending requests by sending fewer at once, resending each refused batch', async () => {
    const { emulator, client } = await setUp({ maxPending: 2, postRowsDelayMs: 20 });
    const table = await csvTable('data', idCsv(1, 600));
    const result = await runPowerBiCreate(client, [table], { ...settings(recorder().sink, { batchRows: 20 }), name: 'Pending', retention: 'none' });
    const throttled = emulator.state.postRowsLog().filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled.every((r) => r.reason === 'pending')).toBe(true);
    // Halving after each 429 gets under the service's limit quickly: no herd of retries.
    expect(throttled.length).toBeLessThanOrEqual(6);
    expect(emulator.state.stats.maxPendingSeen).toBe(2);
    expect(result.throttled).toBe(throttled.length);
    expectEvery429Resent(emulator, 30);
    expectEachIdOnce(storedIds(emulator, result.datasetId), 1, 600);
  });

  it('gets a new token when the service answers 403 TokenExpired mid-push and resends the batch', async () => {
    let expired = false;
    const { emulator, client } = await setUp();
    const table = await csvTable('data', idCsv(1, 2000));
    const progress = recorder((rows) => {
      if (!expired && rows >= 200) {
        expired = true;
        emulator.state.expireTokens();
      }
    });
    const result = await runPowerBiCreate(client, [table], { ...settings(progress.sink, { batchRows: 200, concurrency: 1 }), name: 'Renewed', retention: 'none' });
    expect(expired).toBe(true);
    expect(result.tokenRefreshes).toBe(1);
    expect(client.tokensFetched).toBe(2);
    expect(emulator.state.stats.tokensIssued).toBe(2);
    expect(result.tables[0]).toMatchObject({ rows: 2000, chunks: 10 });
    expectEachIdOnce(storedIds(emulator, result.datasetId), 1, 2000);
  });

  it('stops at an interrupt during a pacing wait and says what the dataset holds', async () => {
    const { emulator, client } = await setUp();
    const table = await csvTable('data', idCsv(1, 100));
    const controller = new AbortController();
    const progress = recorder((rows) => {
      if (rows >= 30) setTimeout(() => controller.abort(), 50);
    });
    const started = Date.now();
    const error = await catchError(
      runPowerBiCreate(client, [table], {
        ...settings(progress.sink, { batchRows: 10, concurrency: 1, limits: { postsPerMinute: 3 }, signal: controller.signal }),
        name: 'Stopped',
        retention: 'none',
        keepDataset: true,
      }),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toMatchObject({ code: 'INTERRUPTED' });
    expect(error.message).toMatch(/^interrupted: dataset "Stopped" \([0-9a-f-]+\) was kept \(--keep-session\): it holds 30 rows of \S+ in table "data" \(rows 1-30\)$/);
    expect(progress.infos.some((l) => /^waiting for the rate limit until \d\d:\d\d:\d\d \(Power BI: at most 3 POST rows requests per minute per dataset\)$/.test(l))).toBe(true);
    expect(emulator.state.summarize()[0]!.tables[0]!.rowCount).toBe(30);
  });
});

describe('runPowerBiAppend', () => {
  it('adds rows, and with replace deletes the table’s rows before posting', async () => {
    const { emulator, client } = await setUp();
    const created = await runPowerBiCreate(client, [await csvTable('data', idCsv(1, 50))], { ...settings(recorder().sink), name: 'Daily', retention: 'none' });
    const definition = await client.readDefinition(created.datasetId);
    expect(definition).toMatchObject({ id: created.datasetId, name: 'Daily', tables: [{ name: 'data', columnsKnown: false, columns: [] }] });

    const replaced = await runPowerBiAppend(client, definition, [await csvTable('data', idCsv(100, 120))], { ...settings(recorder().sink), policy: 'replace' });
    expect(replaced).toMatchObject({ policy: 'replace', tables: [{ name: 'data', rows: 21, chunks: 1 }] });
    expect(emulator.state.stats.rowsDeleted).toBe(50);
    expectEachIdOnce(storedIds(emulator, created.datasetId), 100, 120);

    await runPowerBiAppend(client, definition, [await csvTable('data', idCsv(121, 130))], { ...settings(recorder().sink), policy: 'add' });
    expect(emulator.state.stats.rowsDeleted).toBe(50);
    expectEachIdOnce(storedIds(emulator, created.datasetId), 100, 130);
  });

  it('checks the file against the columns and types the service lists, before any change', async () => {
    const { emulator, client } = await setUp({ tablesWithColumns: true });
    const created = await runPowerBiCreate(client, [await csvTable('data', idCsv(1, 5))], { ...settings(recorder().sink), name: 'Typed', retention: 'none' });
    const definition = await client.readDefinition(created.datasetId);
    expect(powerBiTypeOverrides(definition, 'data')).toEqual(new Map([['id', 'BIGINTEGER'], ['label', 'STRING']]));

    const extra = await csvTable('data', 'id,label,colour\n6,six,red\n');
    const error = await catchError(runPowerBiAppend(client, definition, [extra], { ...settings(recorder().sink), policy: 'replace' }));
    expect(error).toMatchObject({ code: 'INPUT_SCHEMA', location: { column: 'colour' } });
    expect(emulator.state.stats.rowsDeleted).toBe(0);

    const typed = await csvTable('data', idCsv(6, 9), powerBiTypeOverrides(definition, 'data'));
    await runPowerBiAppend(client, definition, [typed], { ...settings(recorder().sink), policy: 'add' });
    expectEachIdOnce(storedIds(emulator, created.datasetId), 1, 9);
  });

  it('refuses a table the dataset does not have', async () => {
    const { client } = await setUp();
    const created = await runPowerBiCreate(client, [await csvTable('data', idCsv(1, 2))], { ...settings(recorder().sink), name: 'One', retention: 'none' });
    const definition = await client.readDefinition(created.datasetId);
    const error = await catchError(runPowerBiAppend(client, definition, [await csvTable('other', idCsv(1, 2))], { ...settings(recorder().sink), policy: 'add' }));
    expect(error).toMatchObject({ code: 'USAGE', hint: 'its tables: data' });
  });
});

/** A run journal in a fresh state folder, as the CLI makes one for a new run. */
function newJournal(command: 'create' | 'append', policy: PowerBiJournal['policy'], tables: readonly PowerBiLoadTable[], datasetId?: string) {
  const store = new PowerBiJournalStore(mkdtempSync(path.join(dir, 'state-')), 'run');
  const journal = new PowerBiRunJournal(store, {
    version: POWERBI_JOURNAL_VERSION,
    target: 'powerbi',
    key: 'run',
    command,
    commandLine: 'mstrpush test',
    apiUrl: 'http://127.0.0.1',
    group: DEFAULT_WORKSPACE.id,
    datasetId,
    datasetName: command === 'create' ? 'x' : undefined,
    knownIds: undefined,
    policy,
    tables: tables.map((t) => ({
      table: t.table,
      file: t.source.displayName,
      fingerprint: { size: 0, mtimeMs: 0, sample: '' },
      phase: policy === 'replace' ? 'empty' : 'loading',
      confirmedThrough: 0,
      beyond: [],
      accepted: 0,
      bytes: 0,
    })),
    updatedAt: '',
  });
  return { store, journal };
}

describe('a batch whose fate is unknown', () => {
  it('empties a table the create fills alone and loads it again, never resending the batch blindly', async () => {
    const { emulator, client } = await setUp({ faults: ['rows#3=503'] });
    const table = await csvTable('data', idCsv(1, 1000));
    const { store, journal } = newJournal('create', 'create', [table]);
    const progress = recorder();
    const result = await runPowerBiCreate(client, [table], { ...settings(progress.sink, { batchRows: 100, concurrency: 1, journal }), name: 'Reloaded', retention: 'none' });
    expect(result).toMatchObject({ reloads: 1, tables: [{ rows: 1000, chunks: 10 }] });
    expect(progress.warnings).toEqual([
      expect.stringMatching(/^table "data": POST \S+ was refused: 503 ServiceUnavailable .*; Power BI cannot say whether rows 201-300 arrived, so the table is emptied and loaded again from its first row \(reload 1 of 5 in 0\.0 s\)$/),
    ]);
    // Two batches went in before the 503 and were deleted with the table; the refused one was never sent again before that.
    const log = emulator.state.postRowsLog();
    expect(log.map((r) => r.status)).toEqual([200, 200, 503, ...Array<number>(10).fill(200)]);
    expect(emulator.state.stats.rowsDeleted).toBe(200);
    expectEachIdOnce(storedIds(emulator, result.datasetId), 1, 1000);
    expect(existsSync(store.file)).toBe(false);
  });

  it('does the same for a table that --policy replace empties anyway', async () => {
    const { emulator, client } = await setUp({ faults: ['rows#5=reset-after'] });
    const created = await runPowerBiCreate(client, [await csvTable('data', idCsv(1, 50))], { ...settings(recorder().sink), name: 'Daily', retention: 'none' });
    const definition = await client.readDefinition(created.datasetId);
    const result = await runPowerBiAppend(client, definition, [await csvTable('data', idCsv(101, 600))], { ...settings(recorder().sink, { batchRows: 100, concurrency: 1 }), policy: 'replace' });
    expect(result).toMatchObject({ reloads: 1, tables: [{ rows: 500 }] });
    // The first pass stored ids 101-500 (the last batch just before the reset) and was deleted.
    expect(emulator.state.stats.rowsDeleted).toBe(50 + 400);
    expectEachIdOnce(storedIds(emulator, created.datasetId), 101, 600);
  });

  it('stops an add without resending, says exactly what the table holds, and refuses to resume past it', async () => {
    const { emulator, client } = await setUp({ faults: ['rows#4=reset-after'] });
    const created = await runPowerBiCreate(client, [await csvTable('data', idCsv(1, 50))], { ...settings(recorder().sink), name: 'Daily', retention: 'none' });
    const definition = await client.readDefinition(created.datasetId);
    const table = await csvTable('data', idCsv(101, 1100));
    const { store, journal } = newJournal('append', 'add', [table], created.datasetId);
    const error = await catchError(runPowerBiAppend(client, definition, [table], { ...settings(recorder().sink, { batchRows: 100, concurrency: 1, journal, resumeCommand: 'mstrpush append' }), policy: 'add' }));
    expect(error).toMatchObject({ code: 'UPLOAD_PARTIAL' });
    const file = table.source.displayName;
    expect(error.message).toContain(`it holds 200 rows of ${file} in table "data" (rows 1-200); rows 201-300 of ${file} may or may not have been added to table "data"`);
    expect(error.hint).toContain(`reload the table with: mstrpush append ${created.datasetId} ${file}:data --policy replace`);
    // The service did store the batch whose answer was lost: the tool said "maybe" and did not send it again.
    const ids = storedIds(emulator, created.datasetId).map(Number).sort((a, b) => a - b);
    expect(ids).toEqual([...Array.from({ length: 50 }, (_, i) => i + 1), ...Array.from({ length: 300 }, (_, i) => i + 101)]);
    expect(emulator.state.postRowsLog()).toHaveLength(1 + 3);

    const saved = (await store.read())!;
    expect(saved.tables[0]).toMatchObject({ phase: 'loading', confirmedThrough: 200, beyond: [{ firstRow: 201, rows: 100, state: 'sent' }], accepted: 2 });
    const resumed = new PowerBiRunJournal(store, saved);
    const refused = await catchError(runPowerBiAppend(client, definition, [table], { ...settings(recorder().sink, { journal: resumed, resume: resumed.resume() }), policy: 'add' }));
    expect(refused).toMatchObject({ code: 'UPLOAD_PARTIAL' });
    expect(refused.message).toContain('holds rows 1-200 of it (200 rows) for sure');
    expect(refused.message).toContain('but rows 201-300 were on their way when it stopped');
    expect(emulator.state.postRowsLog()).toHaveLength(4);
  });
});

describe('resuming from the run journal', () => {
  it('continues an interrupted create from the first unconfirmed batch, sending every other batch once', async () => {
    const { emulator, client } = await setUp({ postRowsDelayMs: 5 });
    const table = await csvTable('data', idCsv(1, 1000));
    const { store, journal } = newJournal('create', 'create', [table]);
    const controller = new AbortController();
    const progress = recorder((rows) => {
      if (rows >= 300) controller.abort();
    });
    const stopped = await catchError(
      runPowerBiCreate(client, [table], { ...settings(progress.sink, { batchRows: 100, concurrency: 2, journal, signal: controller.signal }), name: 'Resumed', retention: 'none', keepDataset: true }),
    );
    expect(stopped).toMatchObject({ code: 'INTERRUPTED' });
    const [dataset] = emulator.state.summarize();
    const held = dataset!.tables[0]!.rowCount;
    expect(held).toBeGreaterThanOrEqual(300);

    const saved = (await store.read())!;
    expect(saved).toMatchObject({ datasetId: dataset!.id, knownIds: [] });
    expect(saved.tables[0]).toMatchObject({ confirmedThrough: held, beyond: [] });
    const again = new PowerBiRunJournal(store, saved);
    const resume: PowerBiResume = again.resume();
    const progressAgain = recorder();
    const result = await runPowerBiCreate(client, [table], { ...settings(progressAgain.sink, { batchRows: 100, journal: again, resume }), name: 'Resumed', retention: 'none' });
    expect(result).toMatchObject({ datasetId: dataset!.id, reloads: 0, tables: [{ rows: 1000, chunks: 10 }] });
    expect(progressAgain.infos).toContain(`table "data": continuing after the ${held} rows the unfinished run loaded (rows 1-${held})`);
    expect(emulator.state.postRowsLog().filter((r) => r.status === 200)).toHaveLength(10);
    expect(emulator.state.summarize()).toHaveLength(1);
    expectEachIdOnce(storedIds(emulator, dataset!.id), 1, 1000);
    expect(existsSync(store.file)).toBe(false);
  });

  it('empties and reloads a table whose batches were on their way when the run stopped', async () => {
    const { emulator, client } = await setUp();
    // What a run killed mid-upload leaves: rows 1-300 stored, the journal sure of 1-200 only.
    const first = await runPowerBiCreate(client, [await csvTable('data', idCsv(1, 300))], { ...settings(recorder().sink), name: 'Killed', retention: 'none' });
    const resume: PowerBiResume = {
      datasetId: first.datasetId,
      tables: new Map([['data', { phase: 'loading', confirmedThrough: 200, confirmed: [], uncertain: [{ firstRow: 201, rows: 100 }], batches: 2, bytes: 0 }]]),
    };
    const progress = recorder();
    const result = await runPowerBiCreate(client, [await csvTable('data', idCsv(1, 1000))], { ...settings(progress.sink, { batchRows: 100, resume }), name: 'Killed', retention: 'none' });
    expect(result).toMatchObject({ datasetId: first.datasetId, tables: [{ rows: 1000 }] });
    expect(progress.warnings[0]).toMatch(/^table "data": rows 201-300 of \S+ were on their way when the unfinished run stopped, and Power BI cannot say whether they arrived; the table is emptied and loaded again from its first row$/);
    expect(emulator.state.stats.rowsDeleted).toBe(300);
    expectEachIdOnce(storedIds(emulator, first.datasetId), 1, 1000);
  });

  it('skips confirmed batches after a gap and sends only the missing ones', async () => {
    const { emulator, client } = await setUp();
    const first = await runPowerBiCreate(client, [await csvTable('data', idCsv(1, 100))], { ...settings(recorder().sink), name: 'Gaps', retention: 'none' });
    await runPowerBiAppend(client, await client.readDefinition(first.datasetId), [await csvTable('data', idCsv(201, 300))], { ...settings(recorder().sink), policy: 'add' });
    const resume: PowerBiResume = {
      tables: new Map([['data', { phase: 'loading', confirmedThrough: 100, confirmed: [{ firstRow: 201, rows: 100 }], uncertain: [], batches: 2, bytes: 0 }]]),
    };
    const before = emulator.state.postRowsLog().length;
    const definition = await client.readDefinition(first.datasetId);
    const result = await runPowerBiAppend(client, definition, [await csvTable('data', idCsv(1, 450))], { ...settings(recorder().sink, { batchRows: 100, resume }), policy: 'add' });
    expect(result.tables[0]).toMatchObject({ rows: 450, chunks: 2 + 3 });
    expect(emulator.state.postRowsLog().slice(before).map((r) => r.rows).sort()).toEqual([100, 100, 50]);
    expectEachIdOnce(storedIds(emulator, first.datasetId), 1, 450);
  });
});

describe('runPowerBiStatus', () => {
  it('reports the dataset and its tables', async () => {
    const { client } = await setUp();
    const created = await runPowerBiCreate(client, [await csvTable('orders', idCsv(1, 2)), await csvTable('customers', idCsv(1, 2))], {
      ...settings(recorder().sink),
      name: 'Shop',
      retention: 'basicFIFO',
    });
    const status = await runPowerBiStatus(client, created.datasetId);
    expect(status).toMatchObject({
      datasetId: created.datasetId,
      name: 'Shop',
      group: DEFAULT_WORKSPACE.id,
      addRowsAPIEnabled: true,
      tables: [
        { name: 'orders', columns: null },
        { name: 'customers', columns: null },
      ],
    });
    expect(formatPowerBiStatus(status)).toContain(`Dataset "Shop" (${created.datasetId}) in workspace ${DEFAULT_WORKSPACE.id}: 2 tables`);
  });

  it('names the workspace in the hint when the dataset is not found', async () => {
    const { client } = await setUp();
    const error = await catchError(runPowerBiStatus(client, '2b0f3c1e-0000-4000-8000-000000000000'));
    expect(error).toMatchObject({ code: 'HTTP_STATUS', hint: `check the dataset id and the workspace: calls go to workspace ${DEFAULT_WORKSPACE.id}` });
    expect(error.message).toContain('404 PowerBIEntityNotFound');
  });
});
