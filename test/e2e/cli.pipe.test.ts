import { spawn } from 'node:child_process';

import { binPath } from '../helpers/cli.js';

describe('output into a pipe that closes early', () => {
  it('ends quietly with exit 0 when the reader stops after the first bytes, as `mstrpush --help | head -1` does', async () => {
    const child = spawn(process.execPath, [binPath, 'create', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    // Read one piece, then close our end: the next write meets a closed pipe (EPIPE).
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  });
});
