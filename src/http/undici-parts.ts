// The parts of undici a run uses: the Agent, the proxy agent, and the request API of dispatchers.
// undici's entry point loads all of undici (fetch, WebSocket, caches, mocks: over a hundred
// modules), about 100 ms of CPU at every start on this project's 2-core machine, against about
// 35 ms for the modules behind these parts. The paths are those of the undici version that
// package.json pins exactly (an upgrade that moves them fails every HTTP test at once); the
// types are the package's own.

import { createRequire } from 'node:module';
import v8 from 'node:v8';
import type { Agent as UndiciAgent, Dispatcher as UndiciDispatcher, EnvHttpProxyAgent as UndiciEnvHttpProxyAgent } from 'undici';
import { wasm } from '../util/wasm.js';
import type { WasmModule } from '../util/wasm.js';

const load = createRequire(import.meta.url);

// What the entry point does first: every dispatcher gets request(), stream(), connect() and the
// rest. The proxy agents rely on it (they open tunnels with connect()); doing it twice, when
// something else loads the entry point too, assigns the same functions again.
const dispatcherClass = load('undici/lib/dispatcher/dispatcher.js') as typeof UndiciDispatcher;
Object.assign(dispatcherClass.prototype, load('undici/lib/api/index.js') as object);

export const Agent = load('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
export const EnvHttpProxyAgent = load('undici/lib/dispatcher/env-http-proxy-agent.js') as typeof UndiciEnvHttpProxyAgent;

export type RequestOptions = Omit<UndiciDispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: UndiciDispatcher };

/** undici's `request(url, options)`, for an explicit dispatcher: the URL gives origin and path. */
export function request(url: string, options: RequestOptions): Promise<UndiciDispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  const parsed = new URL(url);
  return dispatcher.request({ ...rest, origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` });
}

// undici parses responses with llhttp compiled to WebAssembly, whose main function is 33 KB of
// code. V8 starts every WebAssembly function on its baseline compiler and recompiles the ones that
// run long enough with its optimizing one, in the background. A push reaches that point for the
// parser after a few dozen responses of a few hundred bytes each, and V8's trace puts the compile
// at 110-150 ms and 29 MB of compiler memory (42 MB in all). On the project machine a push of a
// one-row CSV took 0.36-0.40 s of CPU and peaked at 96-97 MB with it, 0.28-0.37 s and 60-61 MB
// without.
//
// V8 gives a function its tiering budget when the module is compiled, and shares one compiled
// module among all compilations of the same bytes while the first is alive. So the parser is
// compiled here, once, with a budget too large to ever run out, and the module is kept: undici's
// own compilation gets this one. The budget goes back to V8's default at once, before anything
// else compiles: the CSV kernel needs its optimizing compiler within the first megabytes. Were a
// V8 version not to share the module, undici would compile its own, as before.
const UNSPENDABLE_BUDGET = 2 ** 31 - 1;
const DEFAULT_BUDGET = 1_800_000; // --wasm-tiering-budget in Node 20's V8
let parserModule: WasmModule | undefined;

/** Compiles undici's HTTP parser so that it stays on V8's baseline compiler; once per process. */
export function keepHttpParserOnBaselineTier(): void {
  // A budget given on the command line is the user's to keep.
  if (parserModule !== undefined || process.execArgv.some((arg) => arg.replaceAll('_', '-').startsWith('--wasm-tiering-budget'))) return;
  v8.setFlagsFromString(`--wasm-tiering-budget=${UNSPENDABLE_BUDGET}`);
  try {
    // The build undici's lazyllhttp() takes: the SIMD one unless switched off (or on ppc64 before
    // Node 24.12), and the plain one when the SIMD one does not compile.
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const oldPpc64 = process.arch === 'ppc64' && (major < 24 || (major === 24 && minor < 12));
    const simd = process.env.UNDICI_NO_WASM_SIMD === '0' || (process.env.UNDICI_NO_WASM_SIMD !== '1' && !oldPpc64);
    parserModule = (simd ? compiled('undici/lib/llhttp/llhttp_simd-wasm.js') : undefined) ?? compiled('undici/lib/llhttp/llhttp-wasm.js');
  } finally {
    v8.setFlagsFromString(`--wasm-tiering-budget=${DEFAULT_BUDGET}`);
  }
}

// Undefined when the module does not compile: undici then meets the same failure, and reports it.
function compiled(path: string): WasmModule | undefined {
  try {
    return new wasm.Module(load(path) as Buffer);
  } catch {
    return undefined;
  }
}
