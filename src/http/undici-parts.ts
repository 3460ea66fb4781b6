// The parts of undici a run uses: the Agent, the proxy agent, and the request API of dispatchers.
// undici's entry point loads all of undici (fetch, WebSocket, caches, mocks: over a hundred
// modules), about 100 ms of CPU at every start on this project's 2-core machine, against about
// 35 ms for the modules behind these parts. The paths are those of the undici version that
// package.json pins exactly (an upgrade that moves them fails every HTTP test at once); the
// types are the package's own.

import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, Dispatcher as UndiciDispatcher, EnvHttpProxyAgent as UndiciEnvHttpProxyAgent } from 'undici';

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
