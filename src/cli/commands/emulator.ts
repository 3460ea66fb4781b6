// `emulator mstr`: runs the bundled strict MicroStrategy emulator until interrupted.

import { UsageError } from '../../errors.js';
import { describeSwitches } from '../../emulator/mstr/options.js';
import type { EmulatorSwitch, MstrEmulatorOptions } from '../../emulator/mstr/options.js';
import { describeSwitches as describePowerBiSwitches } from '../../emulator/powerbi/options.js';
import type { PowerBiEmulatorOptions } from '../../emulator/powerbi/options.js';
import type { CommandContext } from '../context.js';

export async function runEmulator(kind: string, opts: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  if (kind === 'powerbi') return runPowerBiEmulator(opts, ctx);
  if (kind !== 'mstr') throw new UsageError(`unknown emulator "${kind}"`, { hint: 'available: mstr, powerbi' });
  const options = emulatorOptions(opts, describeSwitches()) as MstrEmulatorOptions;
  if (opts.verbose === true) options.log = (line) => ctx.io.stderr.write(`${line}\n`);
  const { startMstrEmulator } = await import('../../emulator/mstr/server.js');
  const emulator = await startMstrEmulator(options);
  const user = options.users?.[0] ?? { username: 'etl', password: 'etl-secret' };
  const project = emulator.state.options.projects[0];
  if (opts.json === true) {
    ctx.io.stdout.write(`${JSON.stringify({ url: emulator.url, port: emulator.port, username: user.username, projectId: project?.id })}\n`);
  } else {
    ctx.io.stdout.write(
      [
        `MicroStrategy emulator listening on ${emulator.url}`,
        `export MSTRPUSH_URL=${emulator.url} MSTRPUSH_USERNAME=${user.username} MSTRPUSH_PASSWORD=${user.password} MSTRPUSH_PROJECT_ID=${project?.id ?? ''}`,
        'Press Ctrl-C to stop it.',
        '',
      ].join('\n'),
    );
  }
  await untilInterrupted(ctx.signal);
  await emulator.close();
  return 0;
}

async function runPowerBiEmulator(opts: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const options = emulatorOptions(opts, describePowerBiSwitches()) as PowerBiEmulatorOptions;
  if (opts.verbose === true) options.log = (line) => ctx.io.stderr.write(`${line}\n`);
  const { startPowerBiEmulator } = await import('../../emulator/powerbi/server.js');
  const emulator = await startPowerBiEmulator(options);
  const o = emulator.state.options;
  const login = {
    apiUrl: emulator.apiUrl,
    authorityUrl: emulator.authorityUrl,
    tenant: o.tenant,
    clientId: o.clients[0]?.clientId ?? '',
    group: o.workspaces[0]?.id ?? '',
  };
  if (opts.json === true) {
    ctx.io.stdout.write(`${JSON.stringify({ ...login, port: emulator.port, timeScale: o.timeScale })}\n`);
  } else {
    ctx.io.stdout.write(
      [
        `Power BI emulator listening on ${emulator.apiUrl} (sign-in at ${emulator.authorityUrl})`,
        `export MSTRPUSH_TARGET=powerbi MSTRPUSH_API_URL=${login.apiUrl} MSTRPUSH_AUTHORITY_URL=${login.authorityUrl} MSTRPUSH_TENANT=${login.tenant} MSTRPUSH_CLIENT_ID=${login.clientId} MSTRPUSH_CLIENT_SECRET=${o.clients[0]?.clientSecret ?? ''} MSTRPUSH_GROUP=${login.group}`,
        ...(o.timeScale !== 1 ? [`export MSTRPUSH_POWERBI_TIME_SCALE=${o.timeScale}   # pace for the emulator's faster clock`] : []),
        'Press Ctrl-C to stop it.',
        '',
      ].join('\n'),
    );
  }
  await untilInterrupted(ctx.signal);
  await emulator.close();
  return 0;
}

function untilInterrupted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

interface SwitchSpec {
  name: string;
  flag: string;
  kind: EmulatorSwitch['kind'];
  choices?: readonly string[];
  repeatable?: boolean;
}

/** Maps the command's switch flags (e.g. --publish-outcome fail) onto emulator options. */
export function emulatorOptions(opts: Record<string, unknown>, switches: readonly SwitchSpec[]): Record<string, unknown> & { users?: unknown; log?: (line: string) => void } {
  const options: Record<string, unknown> = {};
  for (const sw of switches) {
    const value = opts[camelCase(sw.flag)];
    if (value === undefined) continue;
    if (sw.repeatable) {
      const list = (Array.isArray(value) ? value : [value]).map(String);
      if (list.length > 0) options[sw.name] = list;
      continue;
    }
    options[sw.name] = parseSwitch(sw, String(value));
  }
  const users = Array.isArray(opts.user) ? (opts.user as string[]) : [];
  if (users.length > 0) {
    options.users = users.map((pair) => {
      const colon = pair.indexOf(':');
      if (colon <= 0 || colon === pair.length - 1) throw new UsageError(`--user ${JSON.stringify(pair)}: expected NAME:PASSWORD`);
      return { username: pair.slice(0, colon), password: pair.slice(colon + 1) };
    });
  }
  return options;
}

function parseSwitch(sw: SwitchSpec, value: string): unknown {
  const bad = () => new UsageError(`--${sw.flag} ${JSON.stringify(value)}: expected ${sw.choices?.join('|') ?? sw.kind}`);
  switch (sw.kind) {
    case 'boolean':
      if (value === 'true') return true;
      if (value === 'false') return false;
      throw bad();
    case 'integer':
      if (!/^\d+$/.test(value)) throw bad();
      return Number(value);
    case 'number':
      if (!/^\d+(\.\d+)?$/.test(value)) throw bad();
      return Number(value);
    case 'choice':
      if (!sw.choices?.includes(value)) throw bad();
      return value;
    case 'string':
      return value;
  }
}

export function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
