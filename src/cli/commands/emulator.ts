// `emulator mstr`: runs the bundled strict MicroStrategy emulator until interrupted.

import { UsageError } from '../../errors.js';
import { describeSwitches } from '../../emulator/mstr/options.js';
import type { EmulatorSwitch, MstrEmulatorOptions } from '../../emulator/mstr/options.js';
import type { CommandContext } from '../context.js';

export async function runEmulator(kind: string, opts: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  if (kind !== 'mstr') throw new UsageError(`unknown emulator "${kind}"`, { hint: 'available: mstr' });
  const options = emulatorOptions(opts);
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
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await emulator.close();
  return 0;
}

/** Maps the command's switch flags (e.g. --publish-outcome fail) onto emulator options. */
export function emulatorOptions(opts: Record<string, unknown>): MstrEmulatorOptions {
  const options: Record<string, unknown> = {};
  for (const sw of describeSwitches()) {
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
  return options as MstrEmulatorOptions;
}

function parseSwitch(sw: EmulatorSwitch, value: string): unknown {
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
