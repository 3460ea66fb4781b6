// A strict MicroStrategy Push Data API emulator on node:http, holding everything in memory. It
// rejects whatever the contract (mstr-push-api.md) says a real server rejects and, where the
// contract is UNCONFIRMED, the stricter choice of DECISIONS.md unless a switch says otherwise.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isJsonNumber, parseStrictJson } from '../json-strict.js';
import type { StrictJsonValue } from '../json-strict.js';
import { ApiError, invalidInput, notFound } from './api-error.js';
import { resolveOptions } from './options.js';
import type { MstrEmulatorOptions, ResolvedMstrEmulatorOptions } from './options.js';
import { EmulatorState, newObjectId, newTicketId } from './state.js';
import type { AuthSession, Dataset, DefinitionField, UploadSession } from './state.js';
import { validateChunkRequest, validateModel, validateUploadSessionRequest } from './validate.js';

export { describeSwitches } from './options.js';
export type { EmulatorSwitch, MstrEmulatorOptions } from './options.js';
export { EmulatorState, canonicalRowJson } from './state.js';
export type { Cell, DatasetInspection, DatasetSummary } from './types.js';

export interface MstrEmulator {
  /** Base URL of the REST API, e.g. http://127.0.0.1:PORT/MicroStrategyLibrary/api. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** The in-memory state, for tests. */
  state: EmulatorState;
}

const API_BASE = '/MicroStrategyLibrary/api';
const INSPECTION_BASE = '/__emulator';
const COOKIE_PATH = '/MicroStrategyLibrary';

/** Starts the emulator and resolves once it listens. Invalid options throw a UsageError. */
export async function startMstrEmulator(options: MstrEmulatorOptions = {}): Promise<MstrEmulator> {
  const resolved = resolveOptions(options);
  const state = new EmulatorState(resolved);
  const server = createServer((req, res) => {
    void handleRequest(req, res, state, resolved);
  });
  // Large chunks over a slow link must not hit Node's default 5-minute request timeout.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  return {
    url: `http://${hostForUrl}:${port}${API_BASE}`,
    port,
    state,
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

// ---------------------------------------------------------------------------------------------
// Request plumbing

interface ReadBody {
  bytes: Buffer;
  tooLarge: boolean;
}

// Always reads the whole body, so the connection stays usable and the client sees the answer
// instead of a reset; past the limit the bytes are counted and dropped.
function readBody(req: IncomingMessage, maxBytes: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    let tooLarge = Number.isFinite(declared) && declared > maxBytes;
    let received = 0;
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => {
      received += part.length;
      if (received > maxBytes) tooLarge = true;
      if (tooLarge) parts.length = 0;
      else parts.push(part);
    });
    req.on('end', () => resolve({ bytes: tooLarge ? Buffer.alloc(0) : Buffer.concat(parts), tooLarge }));
    req.on('error', reject);
  });
}

const NO_CACHE_HEADERS = {
  'Cache-Control': 'no-cache, no-store, max-age=0, must-revalidate',
  Pragma: 'no-cache',
  Expires: '0',
};

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...NO_CACHE_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, status === 204 ? { ...NO_CACHE_HEADERS, ...headers } : { ...NO_CACHE_HEADERS, 'Content-Length': '0', ...headers });
  res.end();
}

function sendError(res: ServerResponse, error: ApiError, headers: Record<string, string> = {}): void {
  sendJson(res, error.status, { code: error.code, message: error.message, ticketId: newTicketId() }, headers);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (header(req, 'cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function mediaType(req: IncomingMessage): { type: string; charset: string | undefined } {
  const [type = '', ...params] = (header(req, 'content-type') ?? '').split(';');
  const charsetParam = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='));
  return { type: type.trim().toLowerCase(), charset: charsetParam?.slice('charset='.length).replace(/"/g, '') };
}

function unsupportedMediaType(expected: string): ApiError {
  return new ApiError(415, 'ERR006', `Content-Type must be ${expected}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function bodyText(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidInput('Request body is not valid UTF-8');
  }
}

// JSON bodies need `Content-Type: application/json` (charset, if given, utf-8), else 415.
function jsonBody(req: IncomingMessage, bytes: Buffer): StrictJsonValue {
  const { type, charset } = mediaType(req);
  if (type !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw unsupportedMediaType('application/json');
  }
  if (bytes.length === 0) throw invalidInput('Request body is required');
  try {
    return parseStrictJson(bodyText(bytes));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw invalidInput(`Invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Routing

type Route =
  | { name: 'login' }
  | { name: 'logout' }
  | { name: 'sessions' }
  | { name: 'projects' }
  | { name: 'models' }
  | { name: 'dataset'; datasetId: string }
  | { name: 'uploadSessions'; datasetId: string }
  | { name: 'uploadSession'; datasetId: string; sessionId: string }
  | { name: 'publish'; datasetId: string; sessionId: string }
  | { name: 'publishStatus'; datasetId: string; sessionId: string }
  | { name: 'inspectDatasets' }
  | { name: 'inspectDataset'; datasetId: string };

const METHODS: Record<Route['name'], readonly string[]> = {
  login: ['POST'],
  logout: ['POST'],
  sessions: ['GET', 'PUT'],
  projects: ['GET'],
  models: ['POST'],
  dataset: ['GET'],
  uploadSessions: ['POST'],
  uploadSession: ['PUT', 'DELETE'],
  publish: ['POST'],
  publishStatus: ['GET'],
  inspectDatasets: ['GET'],
  inspectDataset: ['GET'],
};

function matchRoute(pathname: string): Route | undefined {
  if (pathname.startsWith(`${INSPECTION_BASE}/`)) {
    const s = pathname.slice(INSPECTION_BASE.length + 1).split('/');
    if (s.length === 1 && s[0] === 'datasets') return { name: 'inspectDatasets' };
    if (s.length === 2 && s[0] === 'datasets' && s[1] !== undefined && s[1] !== '') return { name: 'inspectDataset', datasetId: s[1] };
    return undefined;
  }
  if (!pathname.startsWith(`${API_BASE}/`)) return undefined;
  const s = pathname.slice(API_BASE.length + 1).split('/');
  const [a, b, c, d, e] = s;
  switch (s.length) {
    case 1:
      if (a === 'sessions') return { name: 'sessions' };
      if (a === 'projects') return { name: 'projects' };
      return undefined;
    case 2:
      if (a === 'auth' && b === 'login') return { name: 'login' };
      if (a === 'auth' && b === 'logout') return { name: 'logout' };
      if (a === 'datasets' && b === 'models') return { name: 'models' };
      if (a === 'datasets' && b !== undefined && b !== '') return { name: 'dataset', datasetId: b };
      return undefined;
    case 3:
      if (a === 'datasets' && b && c === 'uploadSessions') return { name: 'uploadSessions', datasetId: b };
      return undefined;
    case 4:
      if (a === 'datasets' && b && c === 'uploadSessions' && d) return { name: 'uploadSession', datasetId: b, sessionId: d };
      return undefined;
    case 5:
      if (a === 'datasets' && b && c === 'uploadSessions' && d && e === 'publish') return { name: 'publish', datasetId: b, sessionId: d };
      if (a === 'datasets' && b && c === 'uploadSessions' && d && e === 'publishStatus') {
        return { name: 'publishStatus', datasetId: b, sessionId: d };
      }
      return undefined;
    default:
      return undefined;
  }
}

async function handleRequest(req: IncomingMessage, res: ServerResponse, state: EmulatorState, options: ResolvedMstrEmulatorOptions): Promise<void> {
  const method = req.method ?? 'GET';
  const url = parseUrl(req.url);
  let body: ReadBody;
  try {
    body = await readBody(req, options.maxBodyBytes);
  } catch {
    res.destroy();
    return;
  }
  let status = 500;
  let failure = '';
  try {
    if (body.tooLarge) throw new ApiError(413, 'ERR006', `Request body is larger than ${options.maxBodyBytes} bytes`);
    const route = matchRoute(url.pathname);
    if (route === undefined) throw notFound('HTTP 404 Not Found');
    const allowed = METHODS[route.name];
    if (!allowed.includes(method)) {
      status = 405;
      failure = ' ERR001';
      sendError(res, new ApiError(405, 'ERR001', 'HTTP 405 Method Not Allowed'), { Allow: allowed.join(', ') });
      return;
    }
    status = dispatch(route, req, res, url, body.bytes, state, options);
  } catch (error) {
    const apiError = error instanceof ApiError ? error : new ApiError(500, 'ERR001', `Internal emulator error: ${error instanceof Error ? error.message : String(error)}`);
    status = apiError.status;
    failure = ` ${apiError.code} ${apiError.message}`;
    sendError(res, apiError);
  } finally {
    options.log?.(`${method} ${url.pathname} ${status}${failure}`);
  }
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  bytes: Buffer;
  state: EmulatorState;
  options: ResolvedMstrEmulatorOptions;
}

function parseUrl(target: string | undefined): URL {
  try {
    // Concatenated rather than resolved, so "//host/path" stays a path and cannot reach a route.
    return new URL(`http://emulator.invalid${target?.startsWith('/') === true ? target : '/'}`);
  } catch {
    return new URL('/', 'http://emulator.invalid');
  }
}

// Runs one route and returns the HTTP status it answered with. Checks run auth → project → body.
function dispatch(
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  bytes: Buffer,
  state: EmulatorState,
  options: ResolvedMstrEmulatorOptions,
): number {
  const call: Call = { req, res, url, bytes, state, options };
  switch (route.name) {
    case 'login':
      return login(call);
    case 'logout':
      state.logout(authenticate(call));
      sendEmpty(res, 204);
      return 204;
    case 'sessions': {
      const session = authenticate(call);
      if (req.method === 'PUT') {
        sendEmpty(res, 204);
        return 204;
      }
      sendJson(res, 200, { username: session.username, timeout: options.sessionIdleSeconds ?? 1800, workingSet: 10, maxSearch: 3 });
      return 200;
    }
    case 'projects':
      authenticate(call);
      sendJson(res, 200, options.projects.map((p) => ({ id: p.id, name: p.name, alias: '', description: '', status: 0 })));
      return 200;
    case 'models': {
      authenticate(call);
      const projectId = requireProject(call);
      const model = validateModel(jsonBody(req, bytes), { allowDuplicateModelNames: options.allowDuplicateModelNames, newId: newObjectId });
      sendJson(res, 200, state.createDataset(projectId, model));
      return 200;
    }
    case 'dataset': {
      authenticate(call);
      const dataset = state.getDataset(requireProject(call), route.datasetId);
      sendJson(res, 200, state.definitionOf(dataset, definitionFields(url)));
      return 200;
    }
    case 'uploadSessions': {
      const session = authenticate(call);
      const dataset = state.getDataset(requireProject(call), route.datasetId);
      const specs = validateUploadSessionRequest(jsonBody(req, bytes), dataset.model.tables, options.keepRows);
      sendJson(res, 200, { uploadSessionId: state.openUploadSession(session, dataset, specs) });
      return 200;
    }
    case 'uploadSession': {
      const { dataset, upload } = findUpload(call, route.datasetId, route.sessionId);
      if (req.method === 'DELETE') {
        state.deleteUploadSession(upload);
      } else {
        const chunk = validateChunkRequest(jsonBody(req, bytes));
        state.addChunk(dataset, upload, chunk.tableName, chunk.index, chunk.data);
      }
      sendEmpty(res, 200);
      return 200;
    }
    case 'publish': {
      const { dataset, upload } = findUpload(call, route.datasetId, route.sessionId);
      state.publish(dataset, upload);
      sendEmpty(res, 200);
      return 200;
    }
    case 'publishStatus': {
      const { dataset, upload } = findUpload(call, route.datasetId, route.sessionId);
      const answer = state.publishStatus(dataset, upload);
      const status = options.publishStatusAsString ? String(answer.status) : answer.status;
      sendJson(res, 200, { uploadSessionId: upload.id, status, message: answer.message });
      return 200;
    }
    case 'inspectDatasets':
      sendJson(res, 200, state.listDatasets());
      return 200;
    case 'inspectDataset': {
      const inspection = state.inspectDataset(route.datasetId);
      if (inspection === undefined) throw notFound(`Dataset ${route.datasetId} was not found`);
      sendJson(res, 200, inspection);
      return 200;
    }
  }
}

function authenticate(call: Call): AuthSession {
  return call.state.authenticate(header(call.req, 'x-mstr-authtoken'), cookie(call.req, 'JSESSIONID'));
}

function findUpload(call: Call, datasetId: string, sessionId: string): { dataset: Dataset; upload: UploadSession } {
  const session = authenticate(call);
  const dataset = call.state.getDataset(requireProject(call), datasetId);
  return { dataset, upload: call.state.getUploadSession(session, dataset, sessionId) };
}

function login({ req, res, bytes, state }: Call): number {
  const fields = loginFields(req, bytes);
  const mode = fields.loginMode ?? '1';
  const loginMode = /^-?[0-9]+$/.test(mode) ? Number(mode) : Number.NaN;
  if (Number.isNaN(loginMode)) throw invalidInput(`loginMode ${JSON.stringify(mode)} is not an integer`);
  const session: AuthSession = state.login(fields.username, fields.password, loginMode);
  // Secure is left off on purpose: the emulator speaks plain http and clients must replay the cookie.
  sendEmpty(res, 204, {
    'X-MSTR-AuthToken': session.token,
    'Set-Cookie': [`JSESSIONID=${session.jsessionId}; Path=${COOKIE_PATH}; HttpOnly`, `iSession=${session.token}; Path=${COOKIE_PATH}; HttpOnly`],
  });
  return 204;
}

// JSON (the docs) or form-encoded (what mstrio-py sends), §1.1.
function loginFields(req: IncomingMessage, bytes: Buffer): { username?: string; password?: string; loginMode?: string } {
  const { type } = mediaType(req);
  if (type === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(bodyText(bytes));
    const pick = (key: string): Record<string, string> => {
      const value = form.get(key);
      return value === null ? {} : { [key]: value };
    };
    return { ...pick('username'), ...pick('password'), ...pick('loginMode') };
  }
  if (type !== 'application/json') throw unsupportedMediaType('application/json or application/x-www-form-urlencoded');
  const body = jsonBody(req, bytes);
  if (!(body instanceof Map)) throw invalidInput('Login body must be a JSON object');
  const out: { username?: string; password?: string; loginMode?: string } = {};
  const username = body.get('username');
  const password = body.get('password');
  const loginMode = body.get('loginMode');
  if (typeof username === 'string') out.username = username;
  if (typeof password === 'string') out.password = password;
  if (loginMode !== undefined && loginMode !== null) {
    if (typeof loginMode === 'string') out.loginMode = loginMode;
    else if (isJsonNumber(loginMode)) out.loginMode = loginMode.text;
    else throw invalidInput('loginMode must be an integer');
  }
  return out;
}

const PROJECT_ID = /^[0-9A-F]{32}$/;

// Every Push Data call must name a known project (§1.2, "(required)" in Swagger). Missing is
// 400 ERR005 (missing required information); malformed or unknown is 400 ERR006 (invalid input).
// IDs are compared exactly, upper-case as the server hands them out.
function requireProject({ req, options }: Call): string {
  const projectId = header(req, 'x-mstr-projectid');
  if (projectId === undefined || projectId === '') throw new ApiError(400, 'ERR005', 'The X-MSTR-ProjectID header is required');
  if (!PROJECT_ID.test(projectId) || !options.projects.some((p) => p.id === projectId)) {
    throw invalidInput(`Project ${JSON.stringify(projectId.slice(0, 40))} does not exist or is not loaded`);
  }
  return projectId;
}

const DEFINITION_FIELDS: readonly DefinitionField[] = ['tables', 'columns', 'attributes', 'metrics'];

// `fields` repeats (`?fields=tables&fields=columns`, §3.8); default attributes and metrics.
function definitionFields(url: URL): Set<DefinitionField> {
  const requested = url.searchParams.getAll('fields');
  if (requested.length === 0) return new Set(['attributes', 'metrics']);
  const fields = new Set<DefinitionField>();
  for (const value of requested) {
    const field = DEFINITION_FIELDS.find((f) => f === value);
    if (field === undefined) throw invalidInput(`fields=${JSON.stringify(value.slice(0, 40))} is not one of ${DEFINITION_FIELDS.join(', ')}`);
    fields.add(field);
  }
  return fields;
}
