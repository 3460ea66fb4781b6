import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { makeSandbox, repoRoot } from '../helpers/cli.js';

const run = promisify(execFile);

// A process that makes 300 requests through the HttpClient to a local server, then scans a CSV
// of about 3 MB with the WebAssembly kernel, with V8 printing every function it compiles.
const childScript = (dist: string, dir: string) => `
import http from 'node:http';
import { writeFileSync } from 'node:fs';
const { HttpClient } = await import(${JSON.stringify(`${dist}/http/client.js`)});
const { openCsvSource } = await import(${JSON.stringify(`${dist}/sources/csv.js`)});
const { createSchemaInferrer } = await import(${JSON.stringify(`${dist}/schema/infer.js`)});
const { DEFAULT_NULL_TOKENS } = await import(${JSON.stringify(`${dist}/schema/values.js`)});
const server = http.createServer((req, res) => res.end(JSON.stringify({ id: 'A1B2', status: 1, note: 'x'.repeat(300) })));
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const client = new HttpClient();
for (let i = 0; i < 300; i++) await client.send({ method: 'GET', url: 'http://127.0.0.1:' + server.address().port + '/status/' + i });
await client.close();
server.close();
console.log('--- requests done');
const file = ${JSON.stringify(dir)} + '/scan.csv';
let text = 'id,amount,day,active\\n';
for (let i = 0; i < 100000; i++) text += i + ',' + (i % 997) + '.25,2024-0' + (1 + (i % 9)) + '-1' + (i % 10) + ',' + (i % 2 === 0) + '\\n';
writeFileSync(file, text);
const source = await openCsvSource(file, { header: true });
const inferrer = createSchemaInferrer(source.columns, { nullTokens: DEFAULT_NULL_TOKENS, file: 'scan.csv' });
await source.scanInto(inferrer, { nullTokens: DEFAULT_NULL_TOKENS, onProgress: () => {} });
await source.close();
console.log('--- scan done', inferrer.finish().map((c) => c.type).join(' '));
// Optimizing compiles run in the background: time for any still running to finish and be printed.
await new Promise((done) => setTimeout(done, 1500));
`;

// Functions V8 compiled with its optimizing compiler, by module: the parser's module is the one
// whose functions were compiled while the requests ran, the kernel's the one first seen after.
async function compilations(extraFlags: string[]): Promise<{ parser: number; kernel: number; types: string }> {
  const { dir, cleanup } = makeSandbox();
  try {
    const dist = pathToFileURL(path.join(repoRoot, 'dist')).href;
    const { stdout } = await run(process.execPath, [...extraFlags, '--trace-wasm-compilation-times', '--input-type=module', '-e', childScript(dist, dir)], { maxBuffer: 64 << 20 });
    const [requests = '', rest = ''] = stdout.split('--- requests done');
    const moduleOf = (line: string) => /^Compiled function (0x[0-9a-f]+)#/.exec(line)?.[1];
    const parserModules = new Set<string | undefined>(requests.split('\n').map(moduleOf).filter((m) => m !== undefined));
    const optimized = stdout.split('\n').filter((line) => line.includes('using TurboFan'));
    return {
      parser: optimized.filter((line) => parserModules.has(moduleOf(line))).length,
      kernel: optimized.filter((line) => !parserModules.has(moduleOf(line))).length,
      types: /--- scan done (.*)/.exec(rest)?.[1] ?? '',
    };
  } finally {
    cleanup();
  }
}

describe('undici HTTP parser and the CSV kernel under V8 tiering', () => {
  it('leaves the HTTP parser on the baseline compiler over 300 responses, and still optimizes the CSV kernel', async () => {
    const result = await compilations([]);
    expect(result.parser).toBe(0);
    expect(result.kernel).toBeGreaterThan(0);
    expect(result.types).toBe('INTEGER DOUBLE DATE BOOL');
  });

  it('sees the parser optimized when the budget is left to V8 (what the test above rules out)', async () => {
    // A budget given on the command line is the user's: the client leaves it alone.
    const result = await compilations(['--wasm-tiering-budget=1800000']);
    expect(result.parser).toBeGreaterThan(0);
    expect(result.kernel).toBeGreaterThan(0);
  });
});
