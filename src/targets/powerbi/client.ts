// Power BI REST calls used for push datasets (powerbi-push-api.md §2), in My workspace or in a
// workspace (`/groups/{id}`). Signs in lazily, renews the token after a 403 TokenExpired and
// resends, and hands throttling of POST rows back to the caller, which owns the pacing.

import { AuthError, ConfigError, RemoteError } from '../../errors.js';
import type { ServerErrorDetail } from '../../errors.js';
import type { HttpClient, HttpMethod, HttpRequest, HttpResponse } from '../../http/client.js';
import { DEFAULT_RETRY_POLICY, decideRetry, describeOutcome, isTransient, parseRetryAfter, provablyNotApplied } from '../../http/retry.js';
import type { AttemptOutcome, RequestSafety, RetryPolicy } from '../../http/retry.js';
import { sleep as defaultSleep } from '../../util/sleep.js';
import { TokenProvider, scopeForApiUrl } from './auth.js';
import type { CreateDatasetBody } from './payload.js';
import { parsePowerBiDataType, parseRetention, retentionQueryValue, wireTypeOf } from './types.js';
import type { PowerBiColumn, PowerBiDefinition, PowerBiRetention } from './types.js';

export const DEFAULT_POWERBI_API_URL = 'https://api.powerbi.com/v1.0/myorg';
export const DEFAULT_AUTHORITY_URL = 'https://login.microsoftonline.com';

/** Retry-After assumed when a 429 comes without one. */
const DEFAULT_RETRY_AFTER_MS = 60_000;
/** How long to wait for a dataset answered with 202 Accepted to become readable. */
const ACCEPTED_DATASET_WAIT_MS = 60_000;

export interface PowerBiConnectOptions {
  http: HttpClient;
  /** REST root up to and including /v1.0/myorg; a bare host gets /v1.0/myorg appended. */
  apiUrl?: string | undefined;
  /** Sign-in host, e.g. https://login.microsoftonline.com. */
  authorityUrl?: string | undefined;
  tenant: string | undefined;
  clientId: string | undefined;
  clientSecret: string;
  /** Workspace id; without it the calls go to My workspace. */
  group?: string | undefined;
  /** Token scope; derived from the API host when absent. */
  scope?: string | undefined;
  /** Allow plain http to a host other than this machine. */
  allowHttp?: boolean | undefined;
  /** Transient failures (network, 408, 429, 5xx) are retried by this policy, as for MicroStrategy. */
  retryPolicy?: RetryPolicy | undefined;
  /** Receives one line per retry. */
  onRetry?: ((line: string) => void) | undefined;
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type PostRowsResult = { kind: 'ok' } | { kind: 'throttled'; retryAfterMs: number; message: string };

export interface CreatedDataset {
  id: string;
  name: string;
  /** The service answered 202 Accepted (creation still in progress) rather than 201. */
  accepted: boolean;
}

export interface PowerBiDatasetInfo {
  id: string;
  name: string | undefined;
  addRowsAPIEnabled: boolean | undefined;
  retention: PowerBiRetention | undefined;
  webUrl: string | undefined;
  configuredBy: string | undefined;
  createdDate: string | undefined;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Checks the settings and builds the client; nothing is sent until the first call (or `signIn`).
 * Missing tenant or client id is a ConfigError, a missing secret an AuthError.
 */
export function connectPowerBi(options: PowerBiConnectOptions): PowerBiClient {
  if (!options.tenant) {
    throw new ConfigError('no tenant given for Power BI', { code: 'CONFIG_MISSING', hint: 'set MSTRPUSH_TENANT, pass --tenant, or put tenant: in .mstrpushrc (a tenant id or domain)' });
  }
  if (!options.clientId) {
    throw new ConfigError('no client id given for Power BI', { code: 'CONFIG_MISSING', hint: 'set MSTRPUSH_CLIENT_ID, pass --client-id, or put clientId: in .mstrpushrc' });
  }
  if (!options.clientSecret) {
    throw new AuthError('no client secret given for Power BI', {
      code: 'AUTH_MISSING',
      hint: 'set MSTRPUSH_CLIENT_SECRET, pass --client-secret-file FILE, or name a variable with clientSecretEnv',
    });
  }
  const apiUrl = normalizeApiUrl(options.apiUrl ?? DEFAULT_POWERBI_API_URL);
  const authorityUrl = (options.authorityUrl ?? DEFAULT_AUTHORITY_URL).replace(/\/+$/, '');
  for (const [what, url] of [['--api-url', apiUrl], ['--authority-url', authorityUrl]] as const) {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' && !LOOPBACK.test(parsed.hostname) && options.allowHttp !== true) {
      throw new ConfigError(`refusing to send credentials over plain http to ${parsed.host} (${what})`, {
        hint: 'use https, or set allowHttp: true in the config file if this network is trusted',
      });
    }
  }
  return new PowerBiClient(options.http, {
    apiUrl,
    authorityUrl,
    tenant: options.tenant,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    group: options.group || undefined,
    scope: options.scope ?? scopeForApiUrl(apiUrl),
    retryPolicy: options.retryPolicy ?? DEFAULT_RETRY_POLICY,
    onRetry: options.onRetry ?? (() => {}),
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    sleep: options.sleep ?? defaultSleep,
  });
}

/** `https://api.powerbi.com` → `https://api.powerbi.com/v1.0/myorg`; a longer path is kept as given. */
export function normalizeApiUrl(url: string): string {
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/\/+$/, '');
  parsed.pathname = path === '' ? '/v1.0/myorg' : path;
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString().replace(/\/+$/, '');
}

interface ClientSettings {
  apiUrl: string;
  authorityUrl: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  group: string | undefined;
  scope: string;
  retryPolicy: RetryPolicy;
  onRetry: (line: string) => void;
  random: () => number;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface CallOptions {
  body?: Buffer | string;
  ok: readonly number[];
  signal?: AbortSignal | undefined;
  /** `return`: hand a 429 back to the caller's pacing; `retry`: wait it out like any transient failure. */
  throttle: 'return' | 'retry';
  /** Reads, DELETE rows and DELETE dataset repeat harmlessly; POSTs add something. */
  safety: RequestSafety;
}

export class PowerBiClient {
  readonly apiUrl: string;
  readonly group: string | undefined;
  readonly #http: HttpClient;
  readonly #tokens: TokenProvider;
  readonly #settings: ClientSettings;
  /** Requests resent with a new token because the service answered 403 TokenExpired. */
  tokenRefreshes = 0;
  /** Requests retried after a transient failure. */
  retries = 0;

  constructor(http: HttpClient, settings: ClientSettings) {
    this.#http = http;
    this.#settings = settings;
    this.apiUrl = settings.apiUrl;
    this.group = settings.group;
    this.#tokens = new TokenProvider(
      http,
      { authorityUrl: settings.authorityUrl, tenant: settings.tenant, clientId: settings.clientId, clientSecret: settings.clientSecret, scope: settings.scope },
      {
        now: settings.now,
        // A second token request is harmless, so sign-in retries like a read.
        send: (request: HttpRequest) => this.#withRetries('sign-in', 'idempotent', request.signal, () => http.send(request)),
      },
    );
  }

  /** How failed requests are retried; callers that recover at a larger scale use the same budget. */
  get retryPolicy(): RetryPolicy {
    return this.#settings.retryPolicy;
  }

  /** Where datasets live: My workspace, or the workspace of `group`. */
  get workspace(): string {
    return this.group === undefined ? 'My workspace' : `workspace ${this.group}`;
  }

  /** How many tokens were fetched in this run. */
  get tokensFetched(): number {
    return this.#tokens.fetched;
  }

  /** Secrets a trace or error message must never show. */
  secrets(): string[] {
    return this.#tokens.secrets();
  }

  /** Gets a token now, so wrong credentials fail before any file is read. */
  async signIn(signal?: AbortSignal): Promise<void> {
    await this.#tokens.get(signal);
  }

  async createDataset(body: CreateDatasetBody, retention: PowerBiRetention, signal?: AbortSignal): Promise<CreatedDataset> {
    const path = `${this.#base()}/datasets?defaultRetentionPolicy=${retentionQueryValue(retention)}`;
    const response = await this.#call('POST', path, { body: JSON.stringify(body), ok: [201, 202], signal, throttle: 'retry', safety: 'creates' });
    const result = parseJson(response, `POST ${path}`) as { id?: unknown; name?: unknown };
    if (typeof result?.id !== 'string' || result.id === '') throw badResponse(`POST ${stripQuery(path)}`, 'no dataset id in the answer');
    const created = { id: result.id, name: typeof result.name === 'string' ? result.name : body.name, accepted: response.status === 202 };
    if (created.accepted) await this.#waitUntilReadable(created.id, signal);
    return created;
  }

  async getDataset(datasetId: string, signal?: AbortSignal): Promise<PowerBiDatasetInfo> {
    const path = `${this.#base()}/datasets/${encodeURIComponent(datasetId)}`;
    const response = await this.#call('GET', path, { ok: [200], signal, throttle: 'retry', safety: 'idempotent' });
    const d = parseJson(response, `GET ${path}`) as Record<string, unknown>;
    if (d === null || typeof d !== 'object') throw badResponse(`GET ${path}`, 'expected a dataset object');
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return {
      id: text(d.id) ?? datasetId,
      name: text(d.name),
      addRowsAPIEnabled: typeof d.addRowsAPIEnabled === 'boolean' ? d.addRowsAPIEnabled : undefined,
      retention: typeof d.defaultRetentionPolicy === 'string' ? parseRetention(d.defaultRetentionPolicy) : undefined,
      webUrl: text(d.webUrl),
      configuredBy: text(d.configuredBy),
      createdDate: text(d.createdDate),
    };
  }

  /** Id and name of every dataset in the workspace (Get Datasets has no paging). */
  async listDatasets(signal?: AbortSignal): Promise<Array<{ id: string; name: string }>> {
    const path = `${this.#base()}/datasets`;
    const response = await this.#call('GET', path, { ok: [200], signal, throttle: 'retry', safety: 'idempotent' });
    const body = parseJson(response, `GET ${path}`) as { value?: unknown };
    if (!Array.isArray(body?.value)) throw badResponse(`GET ${path}`, 'expected {"value": [datasets]}');
    return (body.value as Array<Record<string, unknown>>)
      .filter((d) => d !== null && typeof d === 'object' && typeof d.id === 'string')
      .map((d) => ({ id: d.id as string, name: typeof d.name === 'string' ? d.name : '' }));
  }

  /** Table names, with columns only where the service lists them (it often does not). */
  async getTables(datasetId: string, signal?: AbortSignal): Promise<Array<{ name: string; columns: PowerBiColumn[] | undefined }>> {
    const path = `${this.#base()}/datasets/${encodeURIComponent(datasetId)}/tables`;
    const response = await this.#call('GET', path, { ok: [200], signal, throttle: 'retry', safety: 'idempotent' });
    const body = parseJson(response, `GET ${path}`) as { value?: unknown };
    if (!Array.isArray(body?.value)) throw badResponse(`GET ${path}`, 'expected {"value": [tables]}');
    return (body.value as Array<Record<string, unknown>>)
      .filter((t) => t !== null && typeof t === 'object' && typeof t.name === 'string')
      .map((t) => {
        const listed = Array.isArray(t.columns) ? (t.columns as Array<Record<string, unknown>>) : [];
        const columns = listed
          .filter((c) => c !== null && typeof c === 'object' && typeof c.name === 'string')
          .map((c) => ({ name: c.name as string, dataType: typeof c.dataType === 'string' ? parsePowerBiDataType(c.dataType) : undefined }));
        return { name: t.name as string, columns: columns.length > 0 ? columns : undefined };
      });
  }

  /** The dataset and its tables in the shape table matching and type checks use. */
  async readDefinition(datasetId: string, signal?: AbortSignal): Promise<PowerBiDefinition> {
    const dataset = await this.getDataset(datasetId, signal);
    const tables = await this.getTables(datasetId, signal);
    return {
      id: dataset.id,
      name: dataset.name,
      retention: dataset.retention,
      addRowsAPIEnabled: dataset.addRowsAPIEnabled,
      tables: tables.map((t) => ({
        name: t.name,
        columnsKnown: t.columns !== undefined,
        columns: (t.columns ?? []).map((c) => ({
          name: c.name,
          type: c.dataType === undefined ? undefined : wireTypeOf(c.dataType),
          role: undefined,
          dataType: c.dataType,
        })),
      })),
    };
  }

  /**
   * `POST .../tables/{table}/rows` with a prebuilt `{"rows":[...]}` body. A 429 comes back as
   * `throttled` so the caller's pacer can hold every request back, not just this one.
   */
  async postRows(datasetId: string, table: string, body: Buffer, signal?: AbortSignal): Promise<PostRowsResult> {
    const response = await this.#call('POST', this.#rowsPath(datasetId, table), { body, ok: [200, 201], signal, throttle: 'return', safety: 'creates' });
    if (response.status === 429) return { kind: 'throttled', retryAfterMs: retryAfterMs(response, this.#settings.now()), message: throttleMessage(response) };
    return { kind: 'ok' };
  }

  /** Deletes every row of the table (the only delete push tables have). */
  async deleteRows(datasetId: string, table: string, signal?: AbortSignal): Promise<void> {
    await this.#call('DELETE', this.#rowsPath(datasetId, table), { ok: [200, 204], signal, throttle: 'retry', safety: 'idempotent' });
  }

  async deleteDataset(datasetId: string, signal?: AbortSignal): Promise<void> {
    await this.#call('DELETE', `${this.#base()}/datasets/${encodeURIComponent(datasetId)}`, { ok: [200, 204], signal, throttle: 'retry', safety: 'idempotent' });
  }

  #base(): string {
    return this.group === undefined ? '' : `/groups/${encodeURIComponent(this.group)}`;
  }

  #rowsPath(datasetId: string, table: string): string {
    return `${this.#base()}/datasets/${encodeURIComponent(datasetId)}/tables/${encodeURIComponent(table)}/rows`;
  }

  // A dataset answered with 202 may not be readable at once; keboola's client polls for it too.
  async #waitUntilReadable(datasetId: string, signal: AbortSignal | undefined): Promise<void> {
    const deadline = this.#settings.now() + ACCEPTED_DATASET_WAIT_MS;
    for (let interval = 250; ; interval = Math.min(interval * 2, 5000)) {
      try {
        await this.getDataset(datasetId, signal);
        return;
      } catch (error) {
        const status = (error as { detail?: ServerErrorDetail }).detail?.status;
        if (status !== 404 || this.#settings.now() + interval > deadline) throw error;
      }
      await this.#settings.sleep(interval, signal);
    }
  }

  async #call(method: HttpMethod, path: string, options: CallOptions): Promise<HttpResponse> {
    let renewed = false;
    const what = `${method} ${stripQuery(path)}`;
    const exchange = async (): Promise<HttpResponse> => {
      for (;;) {
        const token = await this.#tokens.get(options.signal);
        const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}` };
        if (options.body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
        const response = await this.#http.send({
          method,
          url: `${this.apiUrl}${path}`,
          headers,
          ...(options.body !== undefined ? { body: options.body } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (response.status !== 403 || renewed || errorCode(response) !== 'TokenExpired') return response;
        // The token lapsed on the way (troubleshoot-rest-api.md): a 403 TokenExpired changed
        // nothing, so the same request goes again with a new token.
        this.#tokens.invalidate(token);
        this.tokenRefreshes++;
        renewed = true;
      }
    };
    const response = await this.#withRetries(what, options.safety, options.signal, exchange, options.throttle === 'return' ? [429] : []);
    if (options.throttle === 'return' && response.status === 429) return response;
    if (!options.ok.includes(response.status)) throw this.#statusError(method, path, response);
    return response;
  }

  /**
   * Runs one exchange under the retry policy. Transient failures are repeated with backoff and
   * Retry-After; a request that adds something only when the failure provably came before the
   * service acted (it could not be reached, or it said 429). Returns the last response, whatever
   * its status; network failures that are not retried are thrown, marked when they may have
   * taken effect.
   */
  async #withRetries(
    what: string,
    safety: RequestSafety,
    signal: AbortSignal | undefined,
    exchange: () => Promise<HttpResponse>,
    passThrough: readonly number[] = [],
  ): Promise<HttpResponse> {
    const { now } = this.#settings;
    const started = now();
    for (let attempt = 1; ; attempt++) {
      let outcome: AttemptOutcome;
      let response: HttpResponse | undefined;
      try {
        response = await exchange();
        if (passThrough.includes(response.status) || !isTransient({ kind: 'status', status: response.status })) return response;
        outcome = { kind: 'status', status: response.status, retryAfter: header(response, 'retry-after') };
      } catch (error) {
        if (!(error instanceof RemoteError) || error.networkCode === undefined) throw error;
        outcome = { kind: 'network', code: error.networkCode };
        const decision = this.#decide(outcome, safety, attempt, now() - started);
        if (!decision.retry) throw provablyNotApplied(outcome) ? error : ambiguous(error);
        await this.#announce(what, describeOutcome(outcome), attempt, decision.delayMs, signal);
        continue;
      }
      const decision = this.#decide(outcome, safety, attempt, now() - started);
      if (!decision.retry) return response;
      await this.#announce(what, `${describeOutcome(outcome)}${errorCode(response) ? ` ${errorCode(response)}` : ''}`, attempt, decision.delayMs, signal);
    }
  }

  #decide(outcome: AttemptOutcome, safety: RequestSafety, attempt: number, elapsedMs: number) {
    const { retryPolicy, random, now } = this.#settings;
    return decideRetry({ outcome, safety, attempt, elapsedMs, policy: retryPolicy, random, nowMs: now() });
  }

  async #announce(what: string, failure: string, attempt: number, delayMs: number, signal: AbortSignal | undefined): Promise<void> {
    this.retries++;
    this.#settings.onRetry(`${what} failed (${failure}); retry ${attempt} of ${this.#settings.retryPolicy.retries} in ${(delayMs / 1000).toFixed(1)} s`);
    await this.#settings.sleep(delayMs, signal);
  }

  #statusError(method: string, path: string, response: HttpResponse): AuthError | RemoteError {
    const detail = errorDetail(method, stripQuery(path), response, (t) => this.#http.redact(t));
    const text = `${method} ${detail.path} was refused: ${formatPowerBiDetail(detail)}`;
    if (response.status === 401) {
      return new AuthError(text, {
        hint: 'the service principal may not use the Power BI API: a Power BI admin must allow service principals (tenant setting "Allow service principals to use Power BI APIs")',
      });
    }
    if (response.status === 403) {
      return new AuthError(text, {
        hint:
          this.group === undefined
            ? 'service principals cannot use My workspace: pass --group <workspace id> (MSTRPUSH_GROUP) of a workspace the app is a Member or Admin of'
            : `the app must be a Member or Admin of workspace ${this.group}`,
      });
    }
    if (response.status === 404) {
      const notPush = /not Push API dataset/i.test(detail.message ?? '');
      return new RemoteError('HTTP_STATUS', text, {
        detail,
        hint: notPush
          ? 'only push datasets (created through the API, for example by mstrpush create) accept rows'
          : `check the dataset id and the workspace: calls go to ${this.workspace}`,
      });
    }
    if (response.status === 413) {
      return new RemoteError('HTTP_STATUS', text, { detail, hint: 'the request was larger than the service accepts; this is a bug in mstrpush, please report it' });
    }
    return new RemoteError('HTTP_STATUS', text, { detail, ...(response.status >= 500 ? { mayHaveTakenEffect: true } : {}) });
  }
}

/** The same network error, marked: the service may have acted on the request before it failed. */
function ambiguous(error: RemoteError): RemoteError {
  return new RemoteError(error.code as ConstructorParameters<typeof RemoteError>[0], error.message, {
    cause: error.cause ?? error,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.detail ? { detail: error.detail } : {}),
    ...(error.networkCode ? { networkCode: error.networkCode } : {}),
    mayHaveTakenEffect: true,
  });
}

/** `404 ItemNotFound "Table 'x' not found" (request id 1a2b…)`: what the service said, on one line. */
export function formatPowerBiDetail(detail: ServerErrorDetail): string {
  const parts = [String(detail.status ?? '')];
  if (detail.code) parts.push(detail.code);
  if (detail.message) parts.push(JSON.stringify(detail.message.replace(/\s+/g, ' ')));
  return parts.join(' ') + (detail.ticketId ? ` (request id ${detail.ticketId})` : '');
}

function errorDetail(method: string, path: string, response: HttpResponse, redact: (text: string) => string): ServerErrorDetail {
  const detail: ServerErrorDetail = { status: response.status, method, path };
  const requestId = header(response, 'requestid');
  if (requestId) detail.ticketId = requestId;
  const text = response.body.toString('utf8').trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    if (text) detail.message = redact(text.slice(0, 300));
    return detail;
  }
  // Three shapes (§5.1): {"error":{"code","message","details"}}, the pbi.error form, and a bare {"message"}.
  const root = (parsed ?? {}) as Record<string, unknown>;
  const error = (root.error ?? root) as Record<string, unknown>;
  const pbi = error['pbi.error'] as Record<string, unknown> | undefined;
  const code = typeof error.code === 'string' ? error.code : typeof pbi?.code === 'string' ? pbi.code : undefined;
  if (code) detail.code = code;
  const messages: string[] = [];
  if (typeof error.message === 'string' && error.message !== 'Bad Request') messages.push(error.message);
  for (const item of Array.isArray(error.details) ? (error.details as Array<Record<string, unknown>>) : []) {
    if (typeof item?.message === 'string') messages.push(item.message);
  }
  if (messages.length === 0 && typeof error.message === 'string') messages.push(error.message);
  if (messages.length > 0) detail.message = redact(messages.join('; ').slice(0, 500));
  return detail;
}

function errorCode(response: HttpResponse): string | undefined {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { error?: { code?: unknown } };
    return typeof body?.error?.code === 'string' ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After in seconds (what Power BI sends) or as an HTTP date; 60 s when missing or unreadable. */
export function retryAfterMs(response: Pick<HttpResponse, 'headers'>, now: number): number {
  const value = header(response, 'retry-after');
  return (value === undefined ? undefined : parseRetryAfter(value, now)) ?? DEFAULT_RETRY_AFTER_MS;
}

function throttleMessage(response: HttpResponse): string {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { message?: unknown; error?: { message?: unknown } };
    const message = body?.message ?? body?.error?.message;
    return typeof message === 'string' ? message : 'too many requests';
  } catch {
    return 'too many requests';
  }
}

function header(response: Pick<HttpResponse, 'headers'>, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function stripQuery(path: string): string {
  return path.split('?')[0] ?? path;
}

function parseJson(response: HttpResponse, what: string): any {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    throw badResponse(stripQuery(what), `the answer is not JSON (HTTP ${response.status})`);
  }
}

function badResponse(what: string, message: string): RemoteError {
  return new RemoteError('HTTP_BAD_RESPONSE', `${what}: ${message}`);
}
