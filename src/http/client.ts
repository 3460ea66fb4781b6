// The one HTTP client of a run: a dedicated undici Agent, explicit timeouts, every response body
// consumed, network failures turned into RemoteError with the host and the cause named.

import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import type { Dispatcher } from 'undici';
import { InterruptedError, RemoteError } from '../errors.js';
import { redactText } from './redact.js';
import { Agent, EnvHttpProxyAgent, keepHttpParserOnBaselineTier, request } from './undici-parts.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * A request body sent in pieces and made again for each attempt, so a retry resends the same
 * bytes without the whole body ever being held in memory at once.
 */
export interface StreamedBody {
  /** Total bytes over all pieces; sent as Content-Length. */
  readonly length: number;
  /** Bytes, or ASCII text sent as its bytes. */
  pieces(): Iterable<Uint8Array | string>;
}

/** The whole body as one Buffer, as it goes on the wire (for tests and small bodies). */
export function streamedBytes(body: StreamedBody): Buffer {
  return Buffer.concat([...body.pieces()].map((piece) => (typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece)));
}

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string | StreamedBody;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Milliseconds from sending to the end of the response body. */
  elapsedMs: number;
}

export interface HttpClientOptions {
  /** Time to wait for response headers, e.g. while a server stores a 100 MB chunk. */
  headersTimeoutMs?: number;
  /** Time allowed between two body packets. */
  bodyTimeoutMs?: number;
  connectTimeoutMs?: number;
  userAgent?: string;
  /** Called once per exchange, for --verbose; the line holds no secrets. */
  trace?: (line: string) => void;
  /** Extra strings to scrub from anything echoed (passwords, tokens). */
  secrets?: () => Iterable<string>;
  dispatcher?: Dispatcher;
  /** PEM certificates trusted in addition to the built-in ones (a corporate CA). */
  extraCa?: string;
  /** Accept any server certificate. Only when the user asked for it. */
  insecure?: boolean;
  /** HTTP_PROXY / HTTPS_PROXY / NO_PROXY (either case), passed in rather than read from the process. */
  proxy?: { httpProxy?: string | undefined; httpsProxy?: string | undefined; noProxy?: string | undefined };
}

export class HttpClient {
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #options: HttpClientOptions;

  constructor(options: HttpClientOptions = {}) {
    this.#options = options;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? createDispatcher(options);
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const started = performance.now();
    const headers: Record<string, string> = { 'user-agent': this.#options.userAgent ?? 'mstrpush', ...req.headers };
    let requestBody: Buffer | string | Readable | null = null;
    if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) {
      requestBody = req.body;
    } else if (req.body !== undefined) {
      headers['content-length'] = String(req.body.length);
      // Object mode hands text pieces to the socket as they are. A string is V8 heap, which young
      // collections free at no cost; a Buffer per piece is memory outside the heap that piles up
      // until a full collection (peak memory then grows with the size of the upload).
      requestBody = Readable.from(req.body.pieces(), { objectMode: true });
    }
    try {
      const response = await request(req.url, {
        method: req.method,
        headers,
        body: requestBody,
        dispatcher: this.#dispatcher,
        signal: req.signal ?? null,
      });
      // Reading the whole body, even for errors, frees the connection for the next request.
      const body = Buffer.from(await response.body.arrayBuffer());
      const elapsedMs = performance.now() - started;
      this.#options.trace?.(
        `${req.method} ${this.redact(pathOf(req.url))} → ${response.statusCode} (${Math.round(elapsedMs)} ms)`,
      );
      return { status: response.statusCode, headers: response.headers, body, elapsedMs };
    } catch (error) {
      if (req.signal?.aborted) throw new InterruptedError('interrupted', { cause: error });
      throw this.#networkError(req, error);
    }
  }

  /** Removes secrets known to this run from text that may reach the user. */
  redact(text: string): string {
    return redactText(text, this.#options.secrets?.() ?? []);
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  #networkError(req: HttpRequest, error: unknown): RemoteError {
    const cause = describeCause(error);
    const host = hostOf(req.url);
    const timeout = /timeout/i.test(cause.code ?? '') || /timeout/i.test(cause.message);
    return new RemoteError(
      timeout ? 'HTTP_TIMEOUT' : 'HTTP_NETWORK',
      `${req.method} ${this.redact(pathOf(req.url))} on ${host} failed: ${this.redact(cause.message)}${cause.code ? ` (${cause.code})` : ''}`,
      {
        cause: error,
        ...(cause.code ? { networkCode: cause.code } : {}),
        hint: timeout ? 'the server did not answer in time' : `check that ${host} is reachable from this machine`,
      },
    );
  }
}

function createDispatcher(options: HttpClientOptions): Dispatcher {
  keepHttpParserOnBaselineTier();
  const tls = {
    timeout: options.connectTimeoutMs ?? 30_000,
    // Setting `ca` replaces Node's trust store, so the built-in roots are passed along with the extra CA.
    ...(options.extraCa ? { ca: [...rootCertificates, options.extraCa] } : {}),
    ...(options.insecure ? { rejectUnauthorized: false } : {}),
  };
  const common = {
    headersTimeout: options.headersTimeoutMs ?? 10 * 60_000,
    bodyTimeout: options.bodyTimeoutMs ?? 5 * 60_000,
    keepAliveTimeout: 10_000,
    connect: tls,
  };
  const proxy = options.proxy;
  if (proxy && (proxy.httpProxy || proxy.httpsProxy)) {
    return new EnvHttpProxyAgent({
      ...common,
      requestTls: tls,
      ...(proxy.httpProxy ? { httpProxy: proxy.httpProxy } : {}),
      ...(proxy.httpsProxy ? { httpsProxy: proxy.httpsProxy } : {}),
      ...(proxy.noProxy ? { noProxy: proxy.noProxy } : {}),
    });
  }
  return new Agent(common);
}

/** Proxy settings from the environment, the way curl and most tools read them. */
export function proxyFromEnv(env: NodeJS.ProcessEnv): NonNullable<HttpClientOptions['proxy']> {
  return {
    httpProxy: env.http_proxy || env.HTTP_PROXY || undefined,
    httpsProxy: env.https_proxy || env.HTTPS_PROXY || undefined,
    noProxy: env.no_proxy || env.NO_PROXY || undefined,
  };
}

function describeCause(error: unknown): { message: string; code?: string } {
  // undici wraps socket errors: the useful code often sits on `cause`.
  const seen = new Set<unknown>();
  let current: unknown = error;
  let message = error instanceof Error ? error.message : String(error);
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR') && current !== error) {
      return { message: current.message || message, code };
    }
    if (typeof code === 'string' && current === error && !(current as { cause?: unknown }).cause) {
      return { message, code };
    }
    if (current.message) message = current.message;
    current = (current as { cause?: unknown }).cause;
  }
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? { message, code } : { message };
}

function pathOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
