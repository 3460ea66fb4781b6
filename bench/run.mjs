// Benchmark of `mstrpush create` against the bundled MicroStrategy emulator, with two references
// measured on the same files: the read floor (Node reading the file, no parsing) and a naive
// pipeline (csv-parse or hyparquet to objects, JSON.stringify per chunk, base64, PUT).
//
// Usage (after `npm run build`; `npm run bench` does both):
//   node bench/run.mjs [--sizes 200,1000] [--only csv|parquet] [--repeat 3] [--keep-data] [--seed N]
//
//   --sizes      CSV sizes to generate, in MB (10^6 bytes), comma-separated; default 200,1000.
//                Each CSV gets a Parquet twin holding the same rows. `--sizes 50` is a quick smoke run.
//   --only       run only the CSV inputs or only their Parquet twins (both are still generated).
//   --keep-data  keep the generated inputs in bench/.data/ afterwards. Kept inputs are reused by
//                later runs as long as their recorded size, seed and generator version match;
//                without this flag they are deleted at the end (the default sizes take about 1.6 GB).
//   --seed       seed of the row generator (default 20260501).
//   --repeat     runs of mstrpush and of the read floor per input (default 3); the table shows the
//                run with the median client CPU, and a line under it the CPU of every run. The
//                naive pipeline, minutes per input, runs once.
//
// Every measured pipeline runs as its own child process, `node --import bench/usage.mjs <script>`,
// which reports its own user+system CPU time and peak RSS on exit; the emulator is a separate
// process whose CPU is not counted. Each input is read whole just before every measured run, so
// all runs start with a warm page cache (the kernel may evict a file between runs, and some
// virtual machines give cache back within seconds, even during a run). Row counts are
// checked against the emulator's inspection endpoint, for every run.
// Prints one Markdown table with the targets below it and writes the same text to
// bench/results.md. Exits 0 when every run succeeded (even if a target is missed), 1 when a run
// failed or a row count did not match, 2 on a bad argument. MSTRPUSH_BENCH_TRACE=1 makes a naive
// script run by hand print per-chunk timings on stderr.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_SEED, PARQUET_GROUP_ROWS, ensureData, sizeLabel } from './generate.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const DATA_DIR = path.join(BENCH_DIR, '.data');
const CLI = path.join(ROOT, 'bin', 'mstrpush.js');
const USAGE_PRELOAD = pathToFileURL(path.join(BENCH_DIR, 'usage.mjs')).href;
const RESULTS = path.join(BENCH_DIR, 'results.md');
const PASSWORD = 'etl-secret'; // the emulator's default login etl:etl-secret
const PIPELINES = ['read floor', 'naive', 'mstrpush'];

const log = (line) => process.stderr.write(`${line}\n`);

class UsageProblem extends Error {}

function parseArgs(argv) {
  const options = { sizes: [200, 1000], only: undefined, keepData: false, seed: DEFAULT_SEED, repeat: 3 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageProblem(`${arg} needs a value`);
      return v;
    };
    if (arg === '--sizes') {
      options.sizes = value().split(',').map((s) => Number(s.trim()));
      if (options.sizes.some((s) => !Number.isInteger(s) || s <= 0)) throw new UsageProblem('--sizes takes whole MB numbers, e.g. 200,1000');
    } else if (arg === '--only') {
      options.only = value();
      if (options.only !== 'csv' && options.only !== 'parquet') throw new UsageProblem('--only takes csv or parquet');
    } else if (arg === '--keep-data') {
      options.keepData = true;
    } else if (arg === '--repeat') {
      options.repeat = Number(value());
      if (!Number.isInteger(options.repeat) || options.repeat < 1) throw new UsageProblem('--repeat takes a positive integer');
    } else if (arg === '--seed') {
      options.seed = Number(value());
      if (!Number.isInteger(options.seed)) throw new UsageProblem('--seed takes an integer');
    } else {
      throw new UsageProblem(`unknown argument ${arg}; usage: node bench/run.mjs [--sizes 200,1000] [--only csv|parquet] [--repeat 3] [--keep-data] [--seed N]`);
    }
  }
  options.sizes = [...new Set(options.sizes)].sort((a, b) => a - b);
  return options;
}

// ---------------------------------------------------------------------------------------------
// Child processes

const liveChildren = new Set();

function cleanEnv(extra = {}) {
  // Settings of the person running the bench must not leak into the measured runs.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MSTRPUSH_')));
  return { ...env, ...extra };
}

/** Runs a child to completion; resolves with its exit code, stdout, the tail of stderr and wall time. */
function runChild(args, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    const out = [];
    let err = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => {
      err = (err + d.toString('utf8')).slice(-4000);
    });
    child.on('error', (e) => {
      liveChildren.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      liveChildren.delete(child);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ code: code ?? (signal ? 128 : 1), signal, stdout: Buffer.concat(out).toString('utf8'), stderr: err, wallMs });
    });
  });
}

async function startEmulator() {
  const child = spawn(process.execPath, [CLI, 'emulator', 'mstr', '--json', '--keep-rows', 'false', '--port', '0'], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d.toString('utf8')).slice(-4000);
  });
  const info = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`the emulator did not start within 20 s: ${err}`)), 20_000);
    child.stdout.on('data', (d) => {
      text += d.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(text.slice(0, nl)));
        } catch (e) {
          reject(new Error(`unexpected emulator output: ${text.slice(0, nl)}`));
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited with code ${code}: ${err}`));
    });
  });
  return {
    info,
    pid: child.pid,
    origin: new URL(info.url).origin,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      // A second signal makes the CLI quit at once when the graceful stop waits on a connection.
      const again = setTimeout(() => child.kill('SIGTERM'), 5_000);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(again);
      clearTimeout(timer);
      liveChildren.delete(child);
    },
  };
}

// The emulator's own CPU time, read from /proc (Linux only), so the table can show how much of a
// run's wall time the server side accounts for. Undefined where /proc is not available.
let clockTicks;
function serverCpuSeconds(pid) {
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

async function inspectDataset(emulator, datasetId) {
  const res = await fetch(`${emulator.origin}/__emulator/datasets/${encodeURIComponent(datasetId)}`);
  if (!res.ok) throw new Error(`emulator inspection of ${datasetId}: HTTP ${res.status}`);
  return res.json();
}

async function readWhole(file) {
  let bytes = 0;
  for await (const piece of fs.createReadStream(file, { highWaterMark: 1 << 20 })) bytes += piece.length;
  return bytes;
}

function parseJsonOutput(stdout) {
  const line = stdout.trim().split('\n').filter(Boolean).at(-1);
  if (!line) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Measured runs

let runCounter = 0;

async function measure({ input, pipeline, emulator, schemaFile, workDir }) {
  runCounter++;
  const usageFile = path.join(workDir, `usage-${runCounter}.json`);
  const datasetName = `bench_${input.label}_${pipeline.replace(/\s+/g, '-')}_${Date.now().toString(36)}_${runCounter}`;
  const env = cleanEnv({
    MSTRPUSH_BENCH_USAGE: usageFile,
    MSTRPUSH_URL: emulator.info.url,
    MSTRPUSH_USERNAME: emulator.info.username,
    MSTRPUSH_PASSWORD: PASSWORD,
    MSTRPUSH_PROJECT_ID: emulator.info.projectId,
  });
  let script;
  if (pipeline === 'read floor') {
    script = [path.join(BENCH_DIR, 'read-floor.mjs'), input.file];
  } else if (pipeline === 'naive') {
    const naive = input.format === 'csv' ? 'naive-csv.mjs' : 'naive-parquet.mjs';
    script = [path.join(BENCH_DIR, naive), input.file, '--schema', schemaFile, '--name', datasetName];
  } else {
    script = [CLI, 'create', input.file, '--name', datasetName, '--json', '--quiet', '--no-config', '--state-dir', path.join(workDir, 'state')];
  }
  log(`${input.label}: ${pipeline} ...`);
  const serverBefore = serverCpuSeconds(emulator.pid);
  const child = await runChild(['--import', USAGE_PRELOAD, ...script], env);
  const serverAfter = serverCpuSeconds(emulator.pid);
  const run = { input, pipeline, wallMs: child.wallMs, exitCode: child.code, failure: undefined };
  if (pipeline !== 'read floor' && serverBefore !== undefined && serverAfter !== undefined) run.serverCpuS = serverAfter - serverBefore;
  try {
    run.usage = JSON.parse(fs.readFileSync(usageFile, 'utf8'));
  } catch {
    run.usage = undefined;
  }
  const output = parseJsonOutput(child.stdout);
  run.output = output;
  const fail = (why) => {
    run.failure = why;
    log(`${input.label}: ${pipeline} FAILED: ${why}${child.stderr ? `\n--- stderr (tail) ---\n${child.stderr.trim()}\n---` : ''}`);
  };
  if (child.code !== 0) {
    fail(`exit code ${child.code}${child.signal ? ` (${child.signal})` : ''}`);
  } else if (!run.usage) {
    fail('the usage file was not written');
  } else if (!output) {
    fail(`no JSON result on stdout: ${child.stdout.slice(0, 300)}`);
  } else if (pipeline === 'read floor') {
    if (output.bytes !== input.bytes) fail(`read ${output.bytes} bytes, the file has ${input.bytes}`);
  } else {
    const reportedRows = pipeline === 'naive' ? output.rows : output.tables?.reduce((sum, t) => sum + (t.rows ?? 0), 0);
    if (pipeline === 'mstrpush' && output.published !== true) fail('the result says the dataset was not published');
    else if (reportedRows !== input.rows) fail(`reported ${reportedRows} rows, expected ${input.rows}`);
    else {
      try {
        const inspection = await inspectDataset(emulator, output.datasetId);
        const stored = inspection.tables?.reduce((sum, t) => sum + (t.rowCount ?? 0), 0);
        run.checksum = inspection.tables?.[0]?.checksum;
        if (stored !== input.rows) fail(`the emulator holds ${stored} rows, expected ${input.rows}`);
      } catch (e) {
        fail(e.message);
      }
    }
    const timing = pipeline === 'mstrpush' ? output?.timing : undefined;
    if (timing && Number(timing.totalCpuMs) > 0 && Number.isFinite(Number(timing.scanCpuMs))) {
      run.inferenceShare = Number(timing.scanCpuMs) / Number(timing.totalCpuMs);
    }
  }
  if (run.usage) {
    run.cpuS = (run.usage.userCPUTime + run.usage.systemCPUTime) / 1e6;
    run.rssMB = (run.usage.maxRSS * 1024) / 1e6;
  }
  if (!run.failure) {
    log(`${input.label}: ${pipeline}: ${(run.wallMs / 1000).toFixed(1)} s wall, ${run.cpuS.toFixed(1)} s CPU, ${run.rssMB.toFixed(0)} MB peak RSS`);
  }
  return run;
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (value, digits) => (value === undefined || !Number.isFinite(value) ? 'n/a' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const pct = (value) => (value === undefined ? 'n/a' : `${(value * 100).toFixed(1)} %`);

function metrics(run) {
  if (!run || run.failure || !run.usage) return undefined;
  const wallS = run.wallMs / 1000;
  return {
    wallS,
    mbPerS: run.input.bytes / 1e6 / wallS,
    rowsPerS: run.input.rows / wallS,
    cpuPerGB: run.cpuS / (run.input.bytes / 1e9),
    rssMB: run.rssMB,
    inferenceShare: run.inferenceShare,
    serverCpuS: run.serverCpuS,
  };
}

function tableLines(runs) {
  const lines = [
    '| input | pipeline | wall s | input MB/s | rows/s | client CPU s/GB | peak RSS MB | inference share | emulator CPU s |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const run of runs) {
    const m = metrics(run);
    const share = run.pipeline === 'mstrpush' ? pct(run.inferenceShare) : '–';
    if (!m) {
      lines.push(`| ${run.input.label} | ${run.pipeline} | FAILED: ${run.failure ?? 'no usage data'} | | | | | | |`);
      continue;
    }
    lines.push(
      `| ${run.input.label} | ${run.pipeline} | ${fmt(m.wallS, 1)} | ${fmt(m.mbPerS, 1)} | ${fmt(m.rowsPerS, 0)} | ${fmt(m.cpuPerGB, 2)} | ${fmt(m.rssMB, 0)} | ${share} | ${run.pipeline === 'read floor' ? '–' : fmt(m.serverCpuS, 1)} |`,
    );
  }
  return lines;
}

function targetLines(runs, inputs) {
  const find = (input, pipeline) => metrics(runs.find((r) => r.input === input && r.pipeline === pipeline));
  const lines = [];
  const add = (ok, text) => lines.push(`- ${ok === undefined ? 'n/a' : ok ? 'pass' : 'FAIL'}: ${text}`);
  for (const input of inputs) {
    const tool = find(input, 'mstrpush');
    const naive = find(input, 'naive');
    const ratio = (a, b) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
    if (input.format === 'csv') {
      add(tool ? tool.cpuPerGB <= 10 : undefined, `${input.label}: client CPU ≤ 10 s per GB: ${fmt(tool?.cpuPerGB, 2)} s/GB`);
      const cpuRatio = ratio(naive?.cpuPerGB, tool?.cpuPerGB);
      add(cpuRatio === undefined ? undefined : cpuRatio >= 4, `${input.label}: CPU per GB ≥ 4× less than naive: naive ${fmt(naive?.cpuPerGB, 2)} / mstrpush ${fmt(tool?.cpuPerGB, 2)} = ${fmt(cpuRatio, 2)}×`);
      const wallRatio = ratio(tool?.mbPerS, naive?.mbPerS);
      add(wallRatio === undefined ? undefined : wallRatio >= 3, `${input.label}: wall-clock throughput ≥ 3× naive: mstrpush ${fmt(tool?.mbPerS, 1)} / naive ${fmt(naive?.mbPerS, 1)} MB/s = ${fmt(wallRatio, 2)}×`);
    } else {
      const cpuRatio = ratio(naive?.cpuPerGB, tool?.cpuPerGB);
      add(cpuRatio === undefined ? undefined : cpuRatio >= 3, `${input.label}: CPU per GB ≥ 3× less than naive: naive ${fmt(naive?.cpuPerGB, 2)} / mstrpush ${fmt(tool?.cpuPerGB, 2)} = ${fmt(cpuRatio, 2)}×`);
    }
    add(tool ? tool.rssMB < 400 : undefined, `${input.label}: mstrpush peak RSS < 400 MB: ${fmt(tool?.rssMB, 0)} MB`);
    add(tool?.inferenceShare === undefined ? undefined : tool.inferenceShare <= 0.35, `${input.label}: schema inference ≤ 35 % of client CPU: ${pct(tool?.inferenceShare)}`);
  }
  for (const format of ['csv', 'parquet']) {
    const ofFormat = inputs.filter((i) => i.format === format);
    if (ofFormat.length === 0) continue;
    const small = ofFormat[0];
    const large = ofFormat.at(-1);
    if (small === large) {
      add(undefined, `${format}: peak RSS within 15 % between the smallest and the largest input: needs two sizes`);
      continue;
    }
    const a = find(small, 'mstrpush')?.rssMB;
    const b = find(large, 'mstrpush')?.rssMB;
    const change = a !== undefined && b !== undefined ? Math.abs(b - a) / a : undefined;
    add(change === undefined ? undefined : change <= 0.15, `${format}: mstrpush peak RSS within 15 % between ${small.label} and ${large.label}: ${fmt(a, 0)} → ${fmt(b, 0)} MB (${pct(change)})`);
  }
  return lines;
}

/**
 * Per input and pipeline, the run the table shows: with several runs, the one with the median
 * client CPU (a failed run is shown instead, so a failure is never hidden).
 */
function shownRuns(runs) {
  const shown = [];
  for (const run of runs) {
    if (shown.some((r) => r.input === run.input && r.pipeline === run.pipeline)) continue;
    const all = runs.filter((r) => r.input === run.input && r.pipeline === run.pipeline);
    const failed = all.find((r) => !metrics(r));
    const sorted = [...all].sort((a, b) => a.cpuS - b.cpuS);
    // With an even count, the higher of the two middle runs.
    shown.push(failed ?? sorted[Math.ceil((sorted.length - 1) / 2)]);
  }
  return shown;
}

function spreadLines(runs) {
  const lines = [];
  for (const run of shownRuns(runs)) {
    const all = runs.filter((r) => r.input === run.input && r.pipeline === run.pipeline && metrics(r));
    if (all.length < 2) continue;
    const cpu = all.map((r) => fmt(metrics(r).cpuPerGB, 2)).join(', ');
    const rss = all.map((r) => fmt(metrics(r).rssMB, 0)).join(', ');
    const share = run.pipeline === 'mstrpush' ? `; inference share ${all.map((r) => pct(r.inferenceShare)).join(', ')}` : '';
    lines.push(`- ${run.input.label} ${run.pipeline}, every run in order: client CPU ${cpu} s/GB; peak RSS ${rss} MB${share}`);
  }
  return lines;
}

function report({ runs, inputs, options, startedAt, loadAtStart }) {
  const cpus = os.cpus();
  const shown = shownRuns(runs);
  const lines = [
    `# mstrpush benchmark`,
    '',
    `- date: ${startedAt.toISOString()}`,
    `- machine: ${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length}, ${(os.totalmem() / 1e9).toFixed(1)} GB memory, ${os.type()} ${os.release()} (${os.arch()}), Node ${process.version}`,
    `- seed: ${options.seed}; Parquet twins hold the same rows as their CSV (snappy, ${PARQUET_GROUP_ROWS.toLocaleString('en-US')} rows per row group)`,
    ...inputs.map((i) => `- ${i.label}: ${(i.bytes / 1e6).toFixed(1)} MB, ${i.rows.toLocaleString('en-US')} rows`),
    '- page cache: warm at the start of each run (each input was read whole just before every measured run; dropping the cache is not possible here); the system may still evict part of an input during a run, and a pass that reads it from disk again shows more system CPU time',
    `- runs: mstrpush and the read floor ${options.repeat} time(s) per input, the table showing the run with the median client CPU; the naive pipeline once`,
    '- client = the measured process only (user+sys CPU, peak RSS of all its threads); the emulator runs in its own process and is not counted',
    '- mstrpush runs `create` with the default chunk size (100MB); MB = 10^6 bytes, GB = 10^9 bytes of input; wall time includes process start',
    `- load average (1 min) at start ${loadAtStart.toFixed(2)}, at end ${os.loadavg()[0].toFixed(2)} (other work on the machine slows wall-clock figures, CPU figures much less)`,
    '- emulator CPU s: CPU time the emulator process spent during the run (decoding and validating every value), to tell server time from client time',
    ...(loadAtStart > cpus.length / 2
      ? [`- **warning: the machine was busy (load ${loadAtStart.toFixed(2)} on ${cpus.length} CPUs); wall-clock figures and the wall-clock target are unreliable in this run**`]
      : []),
    ...runs
      .filter((r) => r.pipeline === 'naive' && r.output?.retries > 0)
      .map((r) => `- ${r.input.label} naive: ${r.output.retries} request(s) repeated after the server closed an idle kept-alive connection`),
    '',
    ...tableLines(shown),
    '',
    ...spreadLines(runs),
    '',
    '## Targets',
    '',
    ...targetLines(shown, inputs),
    '',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0];
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mstrpush-bench-'));
  const generated = [];
  const inputs = [];
  try {
    for (const sizeMB of options.sizes) {
      const data = ensureData({ dir: DATA_DIR, sizeMB, seed: options.seed, log });
      if (data.cached) log(`reusing ${path.basename(data.csvPath)} and its Parquet twin (${data.rows.toLocaleString('en-US')} rows)`);
      generated.push(data);
    }
    for (const format of ['csv', 'parquet']) {
      if (options.only && options.only !== format) continue;
      for (const data of generated) {
        const file = format === 'csv' ? data.csvPath : data.parquetPath;
        const size = sizeLabel(data.targetBytes / 1e6);
        inputs.push({
          label: format === 'csv' ? `csv-${size}` : `parquet-${size}-twin`,
          format,
          file,
          bytes: format === 'csv' ? data.csvBytes : data.parquetBytes,
          rows: data.rows,
        });
      }
    }

    const runs = [];
    for (const input of inputs) {
      // The naive pipeline sends the column types and roles mstrpush infers for this file.
      const schemaRun = await runChild([CLI, 'schema', input.file, '--json', '--quiet'], cleanEnv());
      const schema = parseJsonOutput(schemaRun.stdout);
      if (schemaRun.code !== 0 || !schema?.tables?.[0]) throw new Error(`mstrpush schema ${input.file} failed (exit ${schemaRun.code}): ${schemaRun.stderr}`);
      if (schema.tables[0].rows !== undefined && schema.tables[0].rows !== input.rows) {
        throw new Error(`mstrpush schema counted ${schema.tables[0].rows} rows in ${input.label}, the generator wrote ${input.rows}`);
      }
      const schemaFile = path.join(workDir, `${input.label}.schema.json`);
      fs.writeFileSync(schemaFile, JSON.stringify(schema));
      const emulator = await startEmulator();
      try {
        for (const pipeline of PIPELINES) {
          const times = pipeline === 'naive' ? 1 : options.repeat;
          for (let time = 0; time < times; time++) {
            // The kernel may have evicted the file since the last run: every run starts warm.
            await readWhole(input.file);
            runs.push(await measure({ input, pipeline, emulator, schemaFile, workDir }));
          }
        }
      } finally {
        await emulator.stop();
      }
    }

    const text = report({ runs, inputs, options, startedAt, loadAtStart });
    fs.writeFileSync(RESULTS, text);
    process.stdout.write(`${text}\n`);
    log(`written to ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
    const failed = runs.filter((r) => r.failure);
    if (failed.length > 0) {
      log(`${failed.length} run(s) failed: ${failed.map((r) => `${r.input.label}/${r.pipeline}`).join(', ')}`);
      return 1;
    }
    return 0;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
    if (!options.keepData) {
      for (const data of generated) {
        for (const file of [data.csvPath, data.parquetPath, data.csvPath.replace(/\.csv$/, '.meta.json')]) fs.rmSync(file, { force: true });
      }
    }
  }
}

function killChildren() {
  for (const child of liveChildren) child.kill('SIGTERM');
}

process.on('SIGINT', () => {
  killChildren();
  process.exit(130);
});
process.on('SIGTERM', () => {
  killChildren();
  process.exit(143);
});

try {
  process.exitCode = await main();
} catch (error) {
  killChildren();
  log(`bench: ${error.message}`);
  process.exitCode = error instanceof UsageProblem ? 2 : 1;
}
