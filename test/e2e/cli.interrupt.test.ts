import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeSandbox, runCli, useEmulator, waitFor } from '../helpers/cli.js';

const emulator = useEmulator();
const scratch = makeSandbox();
afterAll(() => scratch.cleanup());


const file = path.join(scratch.dir, 'long.csv');
beforeAll(() => {
  const lines = ['id,label,amount'];
  for (let i = 1; i <= 400_000; i++) lines.push(`${i},row number ${i},${i % 977}.${i % 10}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
});

/** Runs create and sends the signals once the emulator holds the first chunk of the upload. */
function interruptedRun(name: string, signals: NodeJS.Signals[]) {
  const state = emulator.current().state;
  return runCli(['create', file, '--name', name, '--chunk-size', '64KB'], {
    env: emulator.env(),
    onSpawn: (child) => {
      void waitFor(() => {
        const id = state.findDatasetId(name);
        const session = id ? state.inspectDataset(id)?.uploadSessions[0] : undefined;
        return (session?.chunks.long?.length ?? 0) > 0;
      }, 30_000).then(() => {
        for (const signal of signals) child.kill(signal);
      });
    },
  });
}

describe('interrupting an upload', () => {
  it('cancels the upload session on SIGINT, publishes nothing and exits 130', async () => {
    const state = emulator.current().state;
    const result = await interruptedRun('Interrupted', ['SIGINT']);

    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/interrupted: upload session [0-9A-F]{32} was cancelled and nothing was published/);
    const inspection = state.inspectDataset(state.findDatasetId('Interrupted')!)!;
    expect(inspection.publishes).toBe(0);
    expect(inspection.tables[0]!.rowCount).toBe(0);
    expect(inspection.uploadSessions).toHaveLength(1);
    expect(inspection.uploadSessions[0]).toMatchObject({ state: 'cancelled', deleted: true });
  });

  it('does the same on SIGTERM', async () => {
    const state = emulator.current().state;
    const result = await interruptedRun('Terminated', ['SIGTERM']);
    expect(result.code).toBe(130);
    const inspection = state.inspectDataset(state.findDatasetId('Terminated')!)!;
    expect(inspection.publishes).toBe(0);
    expect(inspection.uploadSessions[0]).toMatchObject({ state: 'cancelled' });
  });

  it('quits at once on a second Ctrl-C, still publishing nothing', async () => {
    const state = emulator.current().state;
    const result = await interruptedRun('Twice', ['SIGINT', 'SIGINT']);
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('press Ctrl-C again to quit at once');
    const inspection = state.inspectDataset(state.findDatasetId('Twice')!)!;
    expect(inspection.publishes).toBe(0);
    expect(inspection.tables[0]!.rowCount).toBe(0);
  });
});

describe('interrupting the scan pass', () => {
  it('stops reading, creates nothing and exits 130 when Ctrl-C comes while the file is being scanned', async () => {
    const state = emulator.current().state;
    const big = path.join(scratch.dir, 'scan.csv');
    const rows = ['id,label,amount'];
    for (let i = 1; i <= 1_500_000; i++) rows.push(`${i},row ${i},${i % 977}.5`);
    writeFileSync(big, `${rows.join('\n')}\n`);
    const result = await runCli(['create', big, '--name', 'ScanInterrupted'], {
      env: emulator.env(),
      onSpawn: (child) => {
        // The progress line that opens the scan pass: the signal lands while the file is read.
        // One Ctrl-C only: a second one quits at once, which is another test's case.
        let said = '';
        let sent = false;
        child.stderr?.on('data', (data: Buffer) => {
          said += data.toString();
          if (!sent && said.includes('scanning')) {
            sent = true;
            child.kill('SIGINT');
          }
        });
      },
    });
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('SIGINT received, stopping');
    expect(result.stderr).not.toMatch(/internal error|bug in mstrpush|AbortError/);
    // The interrupt is the one error reported.
    expect(result.stderr.match(/error:.*/g)).toEqual(['error: interrupted by SIGINT']);
    expect(state.findDatasetId('ScanInterrupted')).toBeUndefined();
  });
});
