// `npm run demo`: starts the bundled MicroStrategy emulator on a free port, creates a dataset from
// fixtures/demo, appends a day of sales, shows the dataset's status, and stops the emulator.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'mstrpush.js');
const fixture = (name) => path.relative(process.cwd(), path.join(root, 'fixtures', 'demo', name)) || name;

const emulator = spawn(process.execPath, [bin, 'emulator', 'mstr', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
// The emulator's own messages (down to its "stopping" line when the demo ends) only matter when
// something went wrong; they are shown then.
let emulatorLog = '';
emulator.stderr.on('data', (data) => (emulatorLog += data));
const [firstLine] = await once(createInterface({ input: emulator.stdout }), 'line');
const { url, username, projectId } = JSON.parse(firstLine);
console.log(`Started the bundled MicroStrategy emulator at ${url}\n`);

const env = {
  ...process.env,
  MSTRPUSH_URL: url,
  MSTRPUSH_USERNAME: username,
  MSTRPUSH_PASSWORD: 'etl-secret',
  MSTRPUSH_PROJECT_ID: projectId,
};

async function mstrpush(args, { capture = false } = {}) {
  console.log(`$ mstrpush ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (d) => (stdout += d));
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`mstrpush exited with ${code}`);
  console.log(capture ? stdout : '');
  return stdout;
}

let failed = false;
try {
  const created = await mstrpush(['create', fixture('sales.csv'), `${fixture('stores.csv')}:Stores`, '--name', 'Demo Sales'], {
    capture: true,
  });
  const datasetId = /\(([0-9A-F]{32})\)/.exec(created)?.[1];
  if (!datasetId) throw new Error('create printed no dataset id');
  await mstrpush(['append', datasetId, `${fixture('sales-2026-11-21.csv')}:sales`]);
  await mstrpush(['status', datasetId]);
  console.log('Done. Point MSTRPUSH_URL at your own server to do the same for real.');
} catch (error) {
  failed = true;
  console.error(`demo failed: ${error.message}`);
} finally {
  emulator.kill('SIGINT');
  await once(emulator, 'close');
  if (failed && emulatorLog) console.error(`emulator said:\n${emulatorLog}`);
}
process.exitCode = failed ? 1 : 0;
