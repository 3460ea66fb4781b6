// MicroStrategy REST calls used by mstrpush (mstr-push-api.md §1 and §3). Keeps the auth token
// and every cookie of the login, because the token only works together with its HTTP session.

import { AuthError, RemoteError } from '../../errors.js';
import type { ServerErrorDetail } from '../../errors.js';
import type { HttpClient, HttpMethod, HttpResponse, StreamedBody } from '../../http/client.js';
import { DEFAULT_RETRY_POLICY, decideRetry, describeOutcome, isTransient } from '../../http/retry.js';
import type { AttemptOutcome, RequestSafety, RetryPolicy } from '../../http/retry.js';
import { sleep } from '../../util/sleep.js';
import { buildChunkBody, buildUploadSession } from './payload.js';
import type { ModelBody, UploadTable } from './payload.js';
import { parseDatasetDefinition } from './definition.js';
import type { DatasetDefinition } from './definition.js';

export interface MstrCredentials {
  username: string;
  password: string;
  loginMode: number;
}

export interface MstrProject {
  id: string;
  name: string;
}

export interface PublishStatus {
  status: number;
  message: string;
}

/** publishStatus values that mean "still working" (EnumDSSXMLStatus, mstr-push-api.md §3.5). */
export const PUBLISH_RUNNING_STATUSES: ReadonlySet<number> = new Set([4, 5, 6, 9, 10, 13, 14, 17]);
export const PUBLISH_DONE_STATUS = 1;

interface CallOptions {
  /** Defaults to idempotent for GET, PUT and DELETE and to `creates` for POST. */
  safety?: RequestSafety;
  /** How a retry line names this request, e.g. "chunk 3 of table sales". */
  what?: string;
  body?: unknown;
  /** Dataset calls carry the project header; auth and project listing do not. */
  project?: boolean;
  /** Statuses that are not errors for this call. */
  ok?: readonly number[];
  signal?: AbortSignal;
  rawBody?: StreamedBody;
}

export class MstrClient {
  readonly baseUrl: string;
  readonly #http: HttpClient;
  readonly #credentials: MstrCredentials;
  #projectId: string | undefined;
  #token: string | undefined;
  readonly #cookies = new Map<string, string>();
  readonly #retryPolicy: RetryPolicy;
  readonly #onRetry: (line: string) => void;
  readonly #random: () => number;
  /** Counts logins after the first one: an expired session was renewed mid-run. */
  relogins = 0;
  /** Counts retried requests, for tests and the summary. */
  retries = 0;

  constructor(
    http: HttpClient,
    options: {
      url: string;
      credentials: MstrCredentials;
      projectId?: string;
      retryPolicy?: RetryPolicy;
      onRetry?: (line: string) => void;
      random?: () => number;
    },
  ) {
    this.#http = http;
    this.baseUrl = normalizeBaseUrl(options.url);
    this.#credentials = options.credentials;
    this.#projectId = options.projectId;
    this.#retryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    this.#onRetry = options.onRetry ?? (() => {});
    this.#random = options.random ?? Math.random;
  }

  get projectId(): string | undefined {
    return this.#projectId;
  }

  set projectId(id: string | undefined) {
    this.#projectId = id;
  }

  /** Secrets a trace or error message must never show. */
  secrets(): string[] {
    return [this.#credentials.password, ...(this.#token ? [this.#token] : []), ...this.#cookies.values()];
  }

  async login(signal?: AbortSignal): Promise<void> {
    // Logging in twice is harmless (the extra session expires), so login retries like a read.
    const response = await this.#withRetries('login', 'idempotent', signal, () =>
      this.#http.send({
        method: 'POST',
        url: `${this.baseUrl}/auth/login`,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          username: this.#credentials.username,
          password: this.#credentials.password,
          loginMode: this.#credentials.loginMode,
        }),
        ...(signal ? { signal } : {}),
      }),
      (r) => (isTransient({ kind: 'status', status: r.status }) ? this.#statusError('POST', '/auth/login', r) : undefined),
    );
    if (response.status === 401 || response.status === 403) {
      const detail = this.#errorDetail('POST', '/auth/login', response);
      throw new AuthError(`login as "${this.#credentials.username}" failed: ${formatDetail(detail)}`, {
        hint: 'check the user name, the password and the login mode (MSTRPUSH_LOGIN_MODE: 1 standard, 16 LDAP)',
      });
    }
    if (response.status !== 204 && response.status !== 200) {
      throw this.#statusError('POST', '/auth/login', response);
    }
    const token = header(response, 'x-mstr-authtoken');
    if (!token) {
      throw new RemoteError('HTTP_BAD_RESPONSE', 'login answered without an X-MSTR-AuthToken header', {
        hint: `check that ${this.baseUrl} is the REST API root (it usually ends in /MicroStrategyLibrary/api)`,
      });
    }
    if (this.#token !== undefined) this.relogins++;
    this.#token = token;
    this.#storeCookies(response);
  }

  async logout(): Promise<void> {
    if (this.#token === undefined) return;
    // An already expired session answers 401 ERR009, which is as good as logged out.
    await this.#call('POST', '/auth/logout', { ok: [204, 200, 401] }, false);
    this.#token = undefined;
    this.#cookies.clear();
  }

  async listProjects(signal?: AbortSignal): Promise<MstrProject[]> {
    const response = await this.#call('GET', '/projects', signal ? { signal } : {});
    const list = parseJson(response, 'GET /projects');
    if (!Array.isArray(list)) throw badResponse('GET /projects', 'expected an array of projects');
    return list
      .filter((p): p is { id: string; name: string } => typeof p?.id === 'string' && typeof p?.name === 'string')
      .map((p) => ({ id: p.id, name: p.name }));
  }

  async createModel(model: ModelBody, signal?: AbortSignal): Promise<{ id: string; name: string }> {
    const response = await this.#call('POST', '/datasets/models', { body: model, project: true, ...(signal ? { signal } : {}) });
    const result = parseJson(response, 'POST /datasets/models') as { id?: unknown; name?: unknown };
    if (typeof result?.id !== 'string') throw badResponse('POST /datasets/models', 'no dataset id in the answer');
    return { id: result.id, name: typeof result.name === 'string' ? result.name : model.name };
  }

  async getDataset(datasetId: string, signal?: AbortSignal): Promise<DatasetDefinition> {
    const fields = ['tables', 'columns', 'attributes', 'metrics'].map((f) => `fields=${f}`).join('&');
    const path = `/datasets/${encodeURIComponent(datasetId)}?${fields}`;
    const response = await this.#call('GET', path, { project: true, ...(signal ? { signal } : {}) });
    return parseDatasetDefinition(datasetId, parseJson(response, `GET /datasets/${datasetId}`));
  }

  async createUploadSession(datasetId: string, tables: readonly UploadTable[], signal?: AbortSignal): Promise<string> {
    const path = `/datasets/${encodeURIComponent(datasetId)}/uploadSessions`;
    // The server allows one open upload session per dataset, so a repeated create cannot make a
    // second one: at worst it is refused, and that refusal is reported.
    const response = await this.#call('POST', path, {
      body: buildUploadSession(tables),
      project: true,
      safety: 'idempotent',
      what: 'opening the upload session',
      ...(signal ? { signal } : {}),
    });
    const result = parseJson(response, `POST ${path}`) as { uploadSessionId?: unknown };
    if (typeof result?.uploadSessionId !== 'string') throw badResponse(`POST ${path}`, 'no uploadSessionId in the answer');
    return result.uploadSessionId;
  }

  async putChunk(datasetId: string, sessionId: string, tableName: string, index: number, json: Buffer, signal?: AbortSignal): Promise<void> {
    // The same index sent again replaces the earlier body, so a chunk PUT is safe to repeat.
    await this.#call('PUT', sessionPath(datasetId, sessionId), {
      rawBody: buildChunkBody(tableName, index, json),
      project: true,
      what: `chunk ${index} of table ${tableName}`,
      ...(signal ? { signal } : {}),
    });
  }

  async publish(datasetId: string, sessionId: string, signal?: AbortSignal): Promise<void> {
    const call = () =>
      this.#call('POST', `${sessionPath(datasetId, sessionId)}/publish`, {
        project: true,
        what: 'publishing',
        ...(signal ? { signal } : {}),
      });
    for (let attempt = 1; ; attempt++) {
      try {
        await call();
        return;
      } catch (error) {
        if (!(error instanceof RemoteError) || !error.mayHaveTakenEffect || attempt > this.#retryPolicy.retries) throw error;
        // A session publishes only once: ask whether this one started before trying again.
        if (await this.#publicationStarted(datasetId, sessionId, signal)) return;
        this.retries++;
        this.#onRetry(`publishing failed (${error.message}); the publication had not started; retry ${attempt} of ${this.#retryPolicy.retries}`);
        await sleep(this.#retryPolicy.baseDelayMs * 2 ** (attempt - 1), signal);
      }
    }
  }

  async #publicationStarted(datasetId: string, sessionId: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const status = await this.publishStatus(datasetId, sessionId, signal);
      return status.status === PUBLISH_DONE_STATUS || PUBLISH_RUNNING_STATUSES.has(status.status);
    } catch (error) {
      if (error instanceof RemoteError && error.detail?.status !== undefined && error.detail.status < 500) return false;
      throw error;
    }
  }

  /**
   * Objects in a folder (`GET /api/folders/{id}`; My Reports when no id), as the official client
   * lists them to find a dataset by name. Undefined when the server does not offer the call.
   */
  async listFolder(folderId: string | undefined, signal?: AbortSignal): Promise<Array<{ id: string; name: string; type: number }> | undefined> {
    const path = folderId ? `/folders/${encodeURIComponent(folderId)}` : '/folders/preDefined/20';
    let response: HttpResponse;
    try {
      response = await this.#call('GET', path, { project: true, what: 'listing the folder', ...(signal ? { signal } : {}) });
    } catch (error) {
      if (error instanceof RemoteError && (error.detail?.status === 404 || error.detail?.status === 405 || error.detail?.status === 501)) {
        return undefined;
      }
      throw error;
    }
    const list = parseJson(response, `GET ${path}`);
    if (!Array.isArray(list)) return undefined;
    return list
      .filter((o): o is { id: string; name: string; type: number } => typeof o?.id === 'string' && typeof o?.name === 'string')
      .map((o) => ({ id: o.id, name: o.name, type: typeof o.type === 'number' ? o.type : 0 }));
  }

  async publishStatus(datasetId: string, sessionId: string, signal?: AbortSignal): Promise<PublishStatus> {
    const path = `${sessionPath(datasetId, sessionId)}/publishStatus`;
    const response = await this.#call('GET', path, { project: true, ...(signal ? { signal } : {}) });
    const result = parseJson(response, `GET ${path}`) as { status?: unknown; message?: unknown };
    // The docs quote the status as a string, the Swagger example and the official client use a number.
    const raw = result?.status;
    const status = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isInteger(status)) throw badResponse(`GET ${path}`, `publish status is not a number: ${JSON.stringify(result?.status)}`);
    return { status, message: typeof result.message === 'string' ? result.message : '' };
  }

  /** Cancels (or, after publication, closes) an upload session; one that is already gone counts as done. */
  async cancelUploadSession(datasetId: string, sessionId: string): Promise<void> {
    await this.#call('DELETE', sessionPath(datasetId, sessionId), { project: true, ok: [200, 204, 404], what: 'cancelling the upload session' });
  }

  /**
   * Whether an upload session can still take chunks: asking for its publish status answers 404
   * once it is gone, 400 while it is open and unpublished, and a status once published.
   */
  async uploadSessionState(datasetId: string, sessionId: string, signal?: AbortSignal): Promise<'open' | 'published' | 'gone'> {
    try {
      await this.publishStatus(datasetId, sessionId, signal);
      return 'published';
    } catch (error) {
      if (error instanceof RemoteError && error.detail?.status === 404) return 'gone';
      if (error instanceof RemoteError && error.detail?.status === 400) return 'open';
      throw error;
    }
  }

  async #call(method: HttpMethod, path: string, options: CallOptions, mayRelogin = true): Promise<HttpResponse> {
    if (this.#token === undefined) await this.login(options.signal);
    const send = () => {
      const headers: Record<string, string> = { accept: 'application/json', 'x-mstr-authtoken': this.#token ?? '' };
      if (this.#cookies.size > 0) headers.cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      if (options.project) {
        if (!this.#projectId) throw new AuthError('no project selected', { code: 'AUTH_MISSING' });
        headers['x-mstr-projectid'] = this.#projectId;
      }
      let body: StreamedBody | string | undefined;
      if (options.rawBody !== undefined) body = options.rawBody;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] = 'application/json';
      return this.#http.send({
        method,
        url: `${this.baseUrl}${path}`,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    };
    const ok = options.ok ?? [200, 201, 204];
    const safety = options.safety ?? (method === 'POST' ? 'creates' : 'idempotent');
    const what = options.what ?? `${method} ${path.split('?')[0]}`;
    let relogged = false;
    return this.#withRetries(what, safety, options.signal, async () => {
      let response = await send();
      if (mayRelogin && !relogged && response.status === 401 && this.#errorDetail(method, path, response).code === 'ERR009') {
        // The session timed out (long uploads outlive it): log in again and repeat the same call.
        // Upload sessions belong to the dataset, so the new login continues the same upload.
        relogged = true;
        this.#onRetry(`${what}: the login expired; logging in again`);
        await this.login(options.signal);
        response = await send();
      }
      return response;
    }, (response) => (ok.includes(response.status) ? undefined : this.#statusError(method, path, response)));
  }

  /**
   * Runs one exchange with the retry policy: transient failures (network errors, 408, 429, 5xx)
   * are tried again with backoff, honouring Retry-After, each retry announced in one line.
   * Requests that create something are only repeated when the failure provably came before the
   * server acted; otherwise the error says the request may have taken effect.
   */
  async #withRetries(
    what: string,
    safety: RequestSafety,
    signal: AbortSignal | undefined,
    exchange: () => Promise<HttpResponse>,
    check: (response: HttpResponse) => Error | undefined,
  ): Promise<HttpResponse> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      let outcome: AttemptOutcome;
      let failure: Error;
      try {
        const response = await exchange();
        const error = check(response);
        if (!error) return response;
        failure = error;
        outcome = { kind: 'status', status: response.status, retryAfter: header(response, 'retry-after') };
      } catch (error) {
        if (!(error instanceof RemoteError) || error.networkCode === undefined) throw error;
        failure = error;
        outcome = { kind: 'network', code: error.networkCode };
      }
      const decision = decideRetry({
        outcome,
        safety,
        attempt,
        elapsedMs: Date.now() - started,
        policy: this.#retryPolicy,
        random: this.#random,
        nowMs: Date.now(),
      });
      if (!decision.retry) throw markEffect(failure, outcome);
      this.retries++;
      this.#onRetry(
        `${what} failed (${describeFailure(failure, outcome)}); retry ${attempt} of ${this.#retryPolicy.retries} in ${(decision.delayMs / 1000).toFixed(1)} s`,
      );
      await sleep(decision.delayMs, signal);
    }
  }

  #storeCookies(response: HttpResponse): void {
    const raw = response.headers['set-cookie'];
    for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq > 0) this.#cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  #errorDetail(method: string, path: string, response: HttpResponse): ServerErrorDetail {
    const detail: ServerErrorDetail = { status: response.status, method, path: path.split('?')[0] ?? path };
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      const text = response.body.toString('utf8').trim();
      if (text) detail.message = this.#http.redact(text.slice(0, 300));
      return detail;
    }
    // Some endpoints wrap errors as {"errors":[{...}]} (mstr-push-api.md §7).
    const body = (Array.isArray((parsed as { errors?: unknown })?.errors) ? (parsed as { errors: unknown[] }).errors[0] : parsed) as Record<string, unknown> | null;
    if (body && typeof body === 'object') {
      if (typeof body.code === 'string') detail.code = body.code;
      if (typeof body.message === 'string') detail.message = this.#http.redact(body.message);
      if (typeof body.ticketId === 'string') detail.ticketId = body.ticketId;
      if (typeof body.iServerCode === 'number' || typeof body.iServerCode === 'string') detail.iServerCode = body.iServerCode;
    }
    return detail;
  }

  #statusError(method: string, path: string, response: HttpResponse): RemoteError | AuthError {
    const detail = this.#errorDetail(method, path, response);
    const text = `${method} ${detail.path} was refused: ${formatDetail(detail)}`;
    if (response.status === 401) {
      return new AuthError(text, { hint: 'the login was not accepted for this call; check the credentials and the project' });
    }
    if (response.status === 403) {
      return new AuthError(text, { hint: 'the user lacks a privilege or permission this call needs' });
    }
    return new RemoteError(response.status === 404 ? 'MSTR_NOT_FOUND' : 'HTTP_STATUS', text, { detail });
  }
}

/** `400 ERR006 "Invalid JSON" (ticket 1a2b…, iServerCode -2147…)`: everything the server said, on one line. */
export function formatDetail(detail: ServerErrorDetail): string {
  const parts = [String(detail.status ?? '')];
  if (detail.code) parts.push(detail.code);
  if (detail.message) parts.push(JSON.stringify(detail.message.replace(/\s+/g, ' ')));
  const extra: string[] = [];
  if (detail.ticketId) extra.push(`ticket ${detail.ticketId}`);
  if (detail.iServerCode !== undefined) extra.push(`iServerCode ${detail.iServerCode}`);
  return parts.join(' ') + (extra.length ? ` (${extra.join(', ')})` : '');
}

/** Accepts the REST root with or without the trailing `/api`. */
export function normalizeBaseUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/api$/i.test(trimmed) ? trimmed : `${trimmed}/api`;
}

function sessionPath(datasetId: string, sessionId: string): string {
  return `/datasets/${encodeURIComponent(datasetId)}/uploadSessions/${encodeURIComponent(sessionId)}`;
}

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(response: HttpResponse, what: string): any {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    throw badResponse(what, `the answer is not JSON (HTTP ${response.status})`);
  }
}

function badResponse(what: string, message: string): RemoteError {
  return new RemoteError('HTTP_BAD_RESPONSE', `${what}: ${message}`);
}

function describeFailure(failure: Error, outcome: AttemptOutcome): string {
  if (failure instanceof RemoteError && failure.detail?.code) return `${describeOutcome(outcome)} ${failure.detail.code}`;
  return describeOutcome(outcome);
}

/** Marks errors after which the server may hold the request's effect (a 5xx, a dropped connection). */
function markEffect(failure: Error, outcome: AttemptOutcome): Error {
  if (!(failure instanceof RemoteError)) return failure;
  const ambiguous = outcome.kind === 'status' ? outcome.status >= 500 : !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'].includes(outcome.code ?? '');
  if (!ambiguous) return failure;
  return new RemoteError(failure.code as ConstructorParameters<typeof RemoteError>[0], failure.message, {
    cause: failure.cause ?? failure,
    ...(failure.hint ? { hint: failure.hint } : {}),
    ...(failure.detail ? { detail: failure.detail } : {}),
    ...(failure.networkCode ? { networkCode: failure.networkCode } : {}),
    mayHaveTakenEffect: true,
  });
}
