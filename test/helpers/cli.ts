// Runs the built CLI (bin/mstrpush.js) as a child process against an emulator on 127.0.0.1, in an
// isolated home and working directory so no config file or MSTRPUSH_* variable leaks in.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMstrEmulator } from '../../src/emulator/mstr/server.js';
import type { MstrEmulator, MstrEmulatorOptions } from '../../src/emulator/mstr/server.js';
import { startPowerBiEmulator } from '../../src/emulator/powerbi/server.js';
import type { PowerBiEmulator, PowerBiEmulatorOptions } from '../../src/emulator/powerbi/server.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binPath = path.join(repoRoot, 'bin', 'mstrpush.js');
export const sharedDir = path.resolve(repoRoot, '../shared');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Bytes for standard input; without it stdin is empty (closed). */
  input?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
  /** Called once the process has started, e.g. to send it a signal. */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

/** A scratch folder used as HOME and cwd of the child; removed by `cleanup`. */
export function makeSandbox(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mstrpush-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const sandbox = makeSandbox();
afterAll(() => sandbox.cleanup());

export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('MSTRPUSH_') && key !== 'CI') env[key] = value;
  }
  env.HOME = sandbox.dir;
  env.XDG_CONFIG_HOME = path.join(sandbox.dir, '.config');
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: options.cwd ?? sandbox.dir,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mstrpush ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
    options.onSpawn?.(child);
  });
}

/** Starts an emulator for the current test file and closes it afterwards. */
export function useEmulator(options: MstrEmulatorOptions = {}): { current: () => MstrEmulator; env: () => Record<string, string> } {
  let emulator: MstrEmulator | undefined;
  beforeAll(async () => {
    emulator = await startMstrEmulator(options);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  const current = () => {
    if (!emulator) throw new Error('emulator not started');
    return emulator;
  };
  return { current, env: () => envFor(current()) };
}

/** Starts a Power BI emulator for the current test file and closes it afterwards. */
export function usePowerBiEmulator(options: PowerBiEmulatorOptions = {}): { current: () => PowerBiEmulator; env: () => Record<string, string> } {
  let emulator: PowerBiEmulator | undefined;
  beforeAll(async () => {
    emulator = await startPowerBiEmulator(options);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  const current = () => {
    if (!emulator) throw new Error('emulator not started');
    return emulator;
  };
  const env = (): Record<string, string> => {
    const o = current().state.options;
    return {
      MSTRPUSH_TARGET: 'powerbi',
      MSTRPUSH_API_URL: current().apiUrl,
      MSTRPUSH_AUTHORITY_URL: current().authorityUrl,
      MSTRPUSH_TENANT: o.tenant,
      MSTRPUSH_CLIENT_ID: o.clients[0]!.clientId,
      MSTRPUSH_CLIENT_SECRET: o.clients[0]!.clientSecret,
      MSTRPUSH_GROUP: o.workspaces[0]!.id,
      // The client paces itself by the emulator's clock.
      ...(o.timeScale !== 1 ? { MSTRPUSH_POWERBI_TIME_SCALE: String(o.timeScale) } : {}),
    };
  };
  return { current, env };
}

export function envFor(emulator: MstrEmulator): Record<string, string> {
  const user = emulator.state.options.users[0]!;
  return {
    MSTRPUSH_URL: emulator.url,
    MSTRPUSH_USERNAME: user.username,
    MSTRPUSH_PASSWORD: user.password,
    MSTRPUSH_PROJECT_ID: emulator.state.options.projects[0]!.id,
  };
}

/** Parses the `--json` result of a successful run, failing with the run's stderr otherwise. */
export function jsonResult<T = any>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstderr:\n${result.stderr}\nstdout:\n${result.stdout}`);
  return JSON.parse(result.stdout) as T;
}

/** Polls `check` every few milliseconds until it holds; rejects after `timeoutMs`. */
export function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}
