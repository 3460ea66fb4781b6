// The two passes over a CSV file, timed with each of the three ways the CSV source can read it:
// the WebAssembly kernel (the default), the JS byte path (what runs when the kernel is not
// built), and the string path (CsvTokenizer, the serializer). No HTTP: this isolates the reading,
// classifying and encoding that `npm run bench` measures inside a whole push.
//
// Usage (after `npm run build`): node bench/csv-engines.mjs [--size 200] [--runs 3]
//   --size  the generated CSV to read, in MB (same generator and seed as bench/run.mjs; the file
//           is kept in bench/.data/ and reused)
//   --runs  runs per engine and pass; the table shows the least CPU time of them, the figure
//           least disturbed by other work on the machine
// Prints a Markdown table of client CPU seconds per GB of input, for each pass and engine.

import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ensureData } from './generate.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(BENCH_DIR, '..', 'dist');

const { openCsvSource } = await import(path.join(DIST, 'sources', 'csv.js'));
const { useCsvKernel } = await import(path.join(DIST, 'sources', 'csv-kernel.js'));
const { createSchemaInferrer } = await import(path.join(DIST, 'schema', 'infer.js'));
const { DEFAULT_NULL_TOKENS } = await import(path.join(DIST, 'schema', 'values.js'));
const { encodeRowBatches } = await import(path.join(DIST, 'chunker', 'encode-rows.js'));

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`--${name} needs a positive integer\n`);
    process.exit(2);
  }
  return value;
}

const sizeMB = option('size', 200);
const runs = option('runs', 3);
const data = ensureData({ dir: path.join(BENCH_DIR, '.data'), sizeMB, log: (line) => process.stderr.write(`${line}\n`) });

function cpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function scanPass(source, engine) {
  const inferrer = createSchemaInferrer(source.columns, { nullTokens: DEFAULT_NULL_TOKENS, file: source.displayName });
  if (engine === 'string path') {
    for await (const batch of source.batches()) inferrer.add(batch);
  } else {
    await source.scanInto(inferrer, { nullTokens: DEFAULT_NULL_TOKENS, onProgress: () => {} });
  }
  return { types: inferrer.finish().map((c) => c.type), rows: inferrer.rowCount };
}

async function encodePass(source, engine, types) {
  const batches =
    engine === 'string path'
      ? encodeRowBatches(source.batches(), source.columns.map((name, i) => ({ name, type: types[i] })), { nullTokens: DEFAULT_NULL_TOKENS, file: source.displayName })
      : source.encodedBatches({ types, nullTokens: DEFAULT_NULL_TOKENS });
  let rows = 0;
  // The rows as one JSON array: the batches' text joined with commas, plus the brackets.
  let bytes = 1;
  for await (const batch of batches) {
    if (batch.rows === 0) continue;
    rows += batch.rows;
    bytes += batch.data.length + 1;
  }
  return { rows, bytes };
}

const engines = ['WebAssembly kernel', 'JS byte path', 'string path'];
const results = [];
let reference;
for (const engine of engines) {
  useCsvKernel(engine === 'WebAssembly kernel');
  let scanBest = Infinity;
  let encodeBest = Infinity;
  for (let run = 0; run < runs; run++) {
    // A new source each run: the byte paths remember what their own scan proved about the file.
    const source = await openCsvSource(data.csvPath, { header: true });
    let started = cpuSeconds();
    const scan = await scanPass(source, engine);
    scanBest = Math.min(scanBest, cpuSeconds() - started);
    started = cpuSeconds();
    const encoded = await encodePass(source, engine, scan.types);
    encodeBest = Math.min(encodeBest, cpuSeconds() - started);
    await source.close();
    // Every engine must see the same rows and write the same number of JSON bytes.
    const outcome = `${scan.rows} rows, ${scan.types.join(',')}, ${encoded.rows} encoded, ${encoded.bytes} bytes`;
    reference ??= outcome;
    if (outcome !== reference) throw new Error(`${engine} disagrees: ${outcome} against ${reference}`);
  }
  results.push({ engine, scan: scanBest, encode: encodeBest });
  process.stderr.write(`${engine}: done\n`);
}

const gb = data.csvBytes / 1e9;
const lines = [
  `CSV passes without HTTP: ${path.basename(data.csvPath)} (${(data.csvBytes / 1e6).toFixed(1)} MB, ${data.rows.toLocaleString('en-US')} rows), least CPU time of ${runs} runs`,
  `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, Node ${process.version}`,
  '',
  '| engine | scan pass CPU s/GB | upload-pass encoding CPU s/GB | both |',
  '| --- | ---: | ---: | ---: |',
  ...results.map((r) => `| ${r.engine} | ${(r.scan / gb).toFixed(2)} | ${(r.encode / gb).toFixed(2)} | ${((r.scan + r.encode) / gb).toFixed(2)} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
