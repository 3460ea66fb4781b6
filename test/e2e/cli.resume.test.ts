import { readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { jsonResult, makeSandbox, runCli, useEmulator, waitFor } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';

const emulator = useEmulator();
const scratch = makeSandbox();
afterAll(() => scratch.cleanup());

const ROWS = 150_000;

function writeLongCsv(name: string): { file: string; expected: string[][] } {
  const file = path.join(scratch.dir, `${name}.csv`);
  const lines = ['id,label,amount'];
  const expected: string[][] = [];
  for (let i = 1; i <= ROWS; i++) {
    const amount = `${i % 977}.${i % 10}5`;
    lines.push(`${i},"label, ${i}",${amount}`);
    expected.push([String(i), `label, ${i}`, amount]);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, expected };
}


/** Runs `create` and sends `signal` once the emulator holds `chunks` chunks of the upload. */
async function createAndStop(file: string, name: string, stateDir: string, signal: NodeJS.Signals, extra: string[] = []): Promise<CliResult> {
  const state = emulator.current().state;
  const table = path.basename(file, '.csv');
  return runCli(['create', file, '--name', name, '--chunk-size', '64KB', '--state-dir', stateDir, '--poll-interval', '50ms', ...extra], {
    env: emulator.env(),
    onSpawn: (child) => {
      void waitFor(() => {
        const id = state.findDatasetId(name);
        const session = id ? state.inspectDataset(id)?.uploadSessions[0] : undefined;
        return (session?.chunks[table]?.length ?? 0) >= 3;
      }).then(() => child.kill(signal));
    },
  });
}

function dataset(name: string) {
  const state = emulator.current().state;
  return state.inspectDataset(state.findDatasetId(name)!)!;
}

// Journals only: a run killed mid-write may also leave a half-written `.tmp` copy.
function journals(stateDir: string): string[] {
  try {
    return readdirSync(path.join(stateDir, 'runs')).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
}

describe('resuming after kill -9', () => {
  it('continues the same upload session from the first unconfirmed chunk and loads every row exactly once', async () => {
    const { file, expected } = writeLongCsv('killed');
    const stateDir = path.join(scratch.dir, 'state-killed');
    const killed = await createAndStop(file, 'Killed', stateDir, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    const before = dataset('Killed');
    expect(before.publishes).toBe(0);
    expect(before.uploadSessions).toHaveLength(1);
    expect(before.uploadSessions[0]!.state).toBe('open');
    expect(journals(stateDir)).toHaveLength(1);

    const resumed = await runCli(['create', file, '--name', 'Killed', '--chunk-size', '64KB', '--state-dir', stateDir, '--resume', '--json', '--poll-interval', '50ms'], { env: emulator.env() });
    const out = jsonResult(resumed);
    expect(out.uploadSessionId).toBe(before.uploadSessions[0]!.id);
    expect(out.datasetId).toBe(before.id);
    expect(out.published).toBe(true);
    expect(resumed.stderr).toContain('continuing the unfinished run');

    const after = dataset('Killed');
    expect(after.uploadSessions).toHaveLength(1);
    expect(after.publishes).toBe(1);
    expect(after.tables[0]!.rowCount).toBe(ROWS);
    expect(after.tables[0]!.rows).toEqual(expected);
    expect(journals(stateDir)).toEqual([]);
  });
});

describe('resuming when the server no longer has the session', () => {
  it('says the session is gone, exits 6 without touching the dataset, and --restart starts over', async () => {
    const { file, expected } = writeLongCsv('gone');
    const stateDir = path.join(scratch.dir, 'state-gone');
    const killed = await createAndStop(file, 'Gone', stateDir, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    const before = dataset('Gone');
    // The server drops the session meanwhile (an administrator, or its own expiry).
    const state = emulator.current().state;
    const held = state.getDataset(before.projectId, before.id);
    state.deleteUploadSession(held.sessions.find((s) => s.id === before.uploadSessions[0]!.id)!);

    const args = ['create', file, '--name', 'Gone', '--chunk-size', '64KB', '--state-dir', stateDir, '--poll-interval', '50ms'];
    const refused = await runCli([...args, '--resume'], { env: emulator.env() });
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/upload session [0-9A-F]{32} of the unfinished run is gone from the server/);
    expect(refused.stderr).toContain('--restart');
    expect(dataset('Gone').publishes).toBe(0);
    expect(journals(stateDir)).toHaveLength(1);

    const restarted = await runCli([...args, '--restart', '--json'], { env: emulator.env() });
    expect(jsonResult(restarted).published).toBe(true);
    const after = dataset('Gone');
    expect(after.tables[0]!.rows).toEqual(expected);
    expect(journals(stateDir)).toEqual([]);
  });
});

describe('an unfinished run', () => {
  it('makes a plain rerun stop without touching the dataset, and --restart start over', async () => {
    const { file, expected } = writeLongCsv('again');
    const stateDir = path.join(scratch.dir, 'state-again');
    await createAndStop(file, 'Again', stateDir, 'SIGKILL');
    const sessionId = dataset('Again').uploadSessions[0]!.id;

    const plain = await runCli(['create', file, '--name', 'Again', '--chunk-size', '64KB', '--state-dir', stateDir], { env: emulator.env() });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(`an unfinished run of this command left upload session ${sessionId} open`);
    expect(plain.stderr).toMatch(/--resume.*--restart/);
    expect(dataset('Again').uploadSessions).toHaveLength(1);

    const restarted = jsonResult(
      await runCli(['create', file, '--name', 'Again', '--chunk-size', '64KB', '--state-dir', stateDir, '--restart', '--json', '--poll-interval', '50ms'], { env: emulator.env() }),
    );
    const after = dataset('Again');
    expect(restarted.datasetId).toBe(after.id);
    expect(after.uploadSessions.map((s) => s.state)).toEqual(['cancelled', 'published']);
    expect(after.tables[0]!.rows).toEqual(expected);
    expect(journals(stateDir)).toEqual([]);
  });

  it('refuses --resume when the file changed, leaving the dataset alone', async () => {
    const { file } = writeLongCsv('changed');
    const stateDir = path.join(scratch.dir, 'state-changed');
    await createAndStop(file, 'Changed', stateDir, 'SIGKILL');
    appendFileSync(file, '999999,"late row",1.0\n');
    const result = await runCli(['create', file, '--name', 'Changed', '--chunk-size', '64KB', '--state-dir', stateDir, '--resume'], { env: emulator.env() });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('the file changed since the unfinished run');
    expect(result.stderr).toContain('--restart');
    const after = dataset('Changed');
    expect(after.publishes).toBe(0);
    expect(after.uploadSessions[0]!.state).toBe('open');
  });

  it('runs plainly with --resume when there is nothing to resume', async () => {
    const file = path.join(scratch.dir, 'small.csv');
    writeFileSync(file, 'a,b\n1,x\n2,y\n');
    const out = jsonResult(await runCli(['create', file, '--name', 'Fresh', '--resume', '--state-dir', path.join(scratch.dir, 'state-fresh'), '--json'], { env: emulator.env() }));
    expect(out).toMatchObject({ published: true, tables: [{ rows: 2 }] });
  });
});

describe('--keep-session', () => {
  it('leaves the session open on Ctrl-C, names the command to resume, and --resume then finishes', async () => {
    const { file, expected } = writeLongCsv('kept');
    const stateDir = path.join(scratch.dir, 'state-kept');
    const stopped = await createAndStop(file, 'Kept', stateDir, 'SIGINT', ['--keep-session']);
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted: upload session [0-9A-F]{32} was left open \(--keep-session\)/);
    expect(stopped.stderr).toMatch(/continue with: mstrpush create .*kept\.csv --name Kept .*--resume/);
    expect(dataset('Kept').uploadSessions[0]!.state).toBe('open');

    const resumed = jsonResult(
      await runCli(['create', file, '--name', 'Kept', '--chunk-size', '64KB', '--state-dir', stateDir, '--resume', '--json', '--poll-interval', '50ms'], { env: emulator.env() }),
    );
    expect(resumed.published).toBe(true);
    expect(dataset('Kept').tables[0]!.rows).toEqual(expected);
  });
});

describe('run-state flags that cannot apply', () => {
  it('refuses --resume together with --restart, before anything is sent', async () => {
    const file = path.join(scratch.dir, 'flags.csv');
    writeFileSync(file, 'id,label\n1,a\n');
    const result = await runCli(['create', file, '--name', 'Flags', '--resume', '--restart'], { env: emulator.env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--resume and --restart exclude each other');
    expect(emulator.current().state.findDatasetId('Flags')).toBeUndefined();
  });

  it('refuses --resume for standard input, which cannot be read again, and loads it plainly without the flag', async () => {
    const refused = await runCli(['create', '-:piped', '--name', 'Piped', '--resume'], { env: emulator.env(), input: 'id,label\n1,a\n2,b\n' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('a run that reads standard input cannot be resumed');
    expect(refused.stderr).toContain('save the input to a file first');
    expect(emulator.current().state.findDatasetId('Piped')).toBeUndefined();

    const plain = await runCli(['create', '-:piped', '--name', 'Piped', '--json', '--poll-interval', '50ms'], { env: emulator.env(), input: 'id,label\n1,a\n2,b\n' });
    expect(jsonResult(plain).tables[0].rows).toBe(2);
  });
});
