// A strict in-memory MicroStrategy Push Data API emulator on node:http. It rejects what the contract
// (mstr-push-api.md) says a real server rejects, takes DECISIONS.md's stricter choice where the
// contract is UNCONFIRMED unless a switch says otherwise, and fails chosen requests by fault rule.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeUtf8, emulatorLifetime, header, isJsonMediaType, mediaType, readBody } from '../http-plumbing.js';
import type { ReadBody } from '../http-plumbing.js';
import { isJsonNumber, parseStrictJson } from '../json-strict.js';
import type { StrictJsonValue } from '../json-strict.js';
import { ApiError, invalidInput, notFound } from './api-error.js';
import { readChunkBody } from './chunk-body.js';
import type { DecodedChunkRequest } from './chunk-body.js';
import { faultErrorBody } from './faults.js';
import type { FaultOperation } from './faults.js';
import { resolveOptions } from './options.js';
import type { MstrEmulatorOptions, ResolvedMstrEmulatorOptions } from './options.js';
import { EmulatorState, newObjectId, newTicketId } from './state.js';
import type { AuthSession, Dataset, DefinitionField, UploadSession } from './state.js';
import { MY_REPORTS_FOLDER_ID, validateChunkRequest, validateModel, validateUploadSessionRequest } from './validate.js';
import type { ChunkRequest } from './validate.js';

export { describeSwitches } from './options.js';
export type { EmulatorSwitch, MstrEmulatorOptions } from './options.js';
export { EmulatorState, canonicalRowJson } from './state.js';
export type { FolderEntry } from './state.js';
export { FAULT_OPERATIONS, parseFaultRule, parseFaultRules } from './faults.js';
export type { FaultAction, FaultOperation, FaultRule, FiredFault } from './faults.js';
export { MY_REPORTS_FOLDER_ID } from './validate.js';
export type { Cell, DatasetInspection, DatasetSummary } from './types.js';

export interface MstrEmulator {
  /** Base URL of the REST API, e.g. http://127.0.0.1:PORT/MicroStrategyLibrary/api. */
  url: string;
  port: number;
  /** Drops open connections and delayed requests; calling it again returns the same promise. */
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
  const lifetime = emulatorLifetime();
  const context: ServerContext = { state, options: resolved, pause: lifetime.pause };
  const server = await lifetime.listen(resolved.host, resolved.port, (req, res) => {
    void handleRequest(req, res, context);
  });
  return { url: `${server.origin}${API_BASE}`, port: server.port, state, close: server.close };
}


// ---------------------------------------------------------------------------------------------
// Request plumbing


const NO_CACHE_HEADERS = {
  'Cache-Control': 'no-cache, no-store, max-age=0, must-revalidate',
  Pragma: 'no-cache',
  Expires: '0',
};

type Headers = Record<string, string | string[]>;

/** What a request is answered with; built first and sent later, so reset-after can drop it. */
interface Answer {
  status: number;
  /** JSON body; none means an empty body. */
  json?: unknown;
  headers?: Headers;
  /** ` CODE message` of an error answer, for the request log. */
  failure?: string;
}

function jsonAnswer(status: number, json: unknown, headers: Headers = {}): Answer {
  return { status, json, headers };
}

function emptyAnswer(status: number, headers: Headers = {}): Answer {
  return { status, headers };
}

function errorAnswer(error: ApiError, headers: Headers = {}): Answer {
  return { status: error.status, json: { code: error.code, message: error.message, ticketId: newTicketId() }, headers, failure: ` ${error.code} ${error.message}` };
}

function send(res: ServerResponse, answer: Answer): void {
  const headers = answer.headers ?? {};
  if (answer.json === undefined) {
    const length = answer.status === 204 ? {} : { 'Content-Length': '0' };
    res.writeHead(answer.status, { ...NO_CACHE_HEADERS, ...length, ...headers });
    res.end();
    return;
  }
  const text = JSON.stringify(answer.json);
  res.writeHead(answer.status, {
    ...NO_CACHE_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}


function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (header(req, 'cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}


function unsupportedMediaType(expected: string): ApiError {
  return new ApiError(415, 'ERR006', `Content-Type must be ${expected}`);
}

function bodyText(bytes: Buffer): string {
  const text = decodeUtf8(bytes);
  if (text === undefined) throw invalidInput('Request body is not valid UTF-8');
  return text;
}

// JSON bodies need `Content-Type: application/json` (charset, if given, utf-8), else 415.
function jsonBody(req: IncomingMessage, bytes: Buffer): StrictJsonValue {
  if (!isJsonMediaType(req)) throw unsupportedMediaType('application/json');
  if (bytes.length === 0) throw invalidInput('Request body is required');
  try {
    return parseStrictJson(bodyText(bytes));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw invalidInput(`Invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// The usual chunk body was checked as it arrived; only the media type is left to check, first,
// as jsonBody would.
function chunkRequest({ req, bytes, chunk }: Call): ChunkRequest {
  if (chunk === undefined) return validateChunkRequest(jsonBody(req, bytes));
  if (!isJsonMediaType(req)) throw unsupportedMediaType('application/json');
  return chunk;
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
  | { name: 'folder'; folderId: string }
  | { name: 'predefinedFolder'; folderType: string }
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
  folder: ['GET'],
  predefinedFolder: ['GET'],
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
      if (a === 'folders' && b !== undefined && b !== '') return { name: 'folder', folderId: b };
      return undefined;
    case 3:
      if (a === 'datasets' && b && c === 'uploadSessions') return { name: 'uploadSessions', datasetId: b };
      if (a === 'folders' && b === 'preDefined' && c) return { name: 'predefinedFolder', folderType: c };
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

// The operation a fault rule names for a request; inspection routes and refused methods have none.
function operationOf(route: Route, method: string): FaultOperation | undefined {
  if (!METHODS[route.name].includes(method)) return undefined;
  switch (route.name) {
    case 'models':
      return 'model';
    case 'uploadSessions':
      return 'session';
    case 'uploadSession':
      return method === 'DELETE' ? 'cancel' : 'chunk';
    case 'publishStatus':
      return 'status';
    case 'folder':
    case 'predefinedFolder':
      return 'folder';
    case 'inspectDatasets':
    case 'inspectDataset':
      return undefined;
    default:
      return route.name;
  }
}

interface ServerContext {
  state: EmulatorState;
  options: ResolvedMstrEmulatorOptions;
  /** Resolves true after `ms`, or false as soon as the emulator closes. */
  pause: (ms: number) => Promise<boolean>;
}

// Faults run in the order their rules were given: delays wait, expire-login ends the caller's
// login, a status answers without applying, reset-before drops the connection unread, and
// reset-after lets the request be applied but drops the connection instead of answering.
async function handleRequest(req: IncomingMessage, res: ServerResponse, context: ServerContext): Promise<void> {
  const { state, options } = context;
  const method = req.method ?? 'GET';
  const url = parseUrl(req.url);
  const route = matchRoute(url.pathname);
  const operation = route === undefined ? undefined : operationOf(route, method);
  const hit = operation === undefined ? { nth: 0, rules: [] } : state.faults.next(operation);
  const fired: string[] = [];
  let outcome = '';
  let body: Body | undefined;
  const read = (): Promise<Body> =>
    operation === 'chunk' ? readChunkBody(req, options.maxBodyBytes, state.scratch) : readBody(req, options.maxBodyBytes);
  try {
    // Reading is skipped only when the connection is to be dropped unread.
    body = hit.rules.some((r) => r.action.kind === 'reset-before') ? undefined : await read();
    let resetAfter = false;
    for (const rule of hit.rules) {
      state.faults.record(rule, hit.nth);
      fired.push(rule.text);
      const action = rule.action;
      if (action.kind === 'delay') {
        if (!(await context.pause(action.ms))) {
          outcome = 'dropped (emulator closing)';
          return;
        }
      } else if (action.kind === 'expire-login') {
        state.expireLogin(header(req, 'x-mstr-authtoken'));
      } else if (action.kind === 'reset-after') {
        resetAfter = true;
      } else if (action.kind === 'reset-before') {
        req.socket.destroy();
        outcome = 'reset before reading';
        return;
      } else if (operation !== undefined) {
        body ??= await read();
        const error = faultErrorBody(action.status, operation, rule.text);
        const retryAfter: Headers = action.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(action.retryAfterSeconds) };
        const answer = errorAnswer(new ApiError(action.status, error.code, error.message), retryAfter);
        outcome = `${answer.status}${answer.failure ?? ''}`;
        deliver(req, res, answer);
        return;
      }
    }
    body ??= await read();
    const answer = answerRequest(route, method, req, url, body, state, options);
    if (resetAfter) {
      req.socket.destroy();
      outcome = `reset after applying (would have answered ${answer.status}${answer.failure ?? ''})`;
      return;
    }
    outcome = `${answer.status}${answer.failure ?? ''}`;
    deliver(req, res, answer);
  } catch {
    // Only reading the body can fail here: the client went away mid-request.
    res.destroy();
    outcome = 'dropped (request body not received)';
  } finally {
    state.scratch.give(body?.request?.data);
    options.log?.(`${method} ${url.pathname} ${outcome}${fired.length > 0 ? ` [fault ${fired.join(', ')}]` : ''}`);
  }
}

/** A read body; chunk PUTs in the usual shape arrive already decoded. */
type Body = ReadBody & { request?: DecodedChunkRequest | undefined };

// A delayed answer may find the client gone; the request was applied all the same.
function deliver(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
  if (req.socket.destroyed || res.destroyed) return;
  send(res, answer);
}

// Everything after the faults: answers a request by the contract, errors included.
function answerRequest(
  route: Route | undefined,
  method: string,
  req: IncomingMessage,
  url: URL,
  body: Body,
  state: EmulatorState,
  options: ResolvedMstrEmulatorOptions,
): Answer {
  try {
    if (body.tooLarge) throw new ApiError(413, 'ERR006', `Request body is larger than ${options.maxBodyBytes} bytes`);
    if (route === undefined) throw notFound('HTTP 404 Not Found');
    const allowed = METHODS[route.name];
    if (!allowed.includes(method)) {
      const answer = errorAnswer(new ApiError(405, 'ERR001', 'HTTP 405 Method Not Allowed'), { Allow: allowed.join(', ') });
      return { ...answer, failure: ' ERR001' };
    }
    return dispatch(route, { req, url, bytes: body.bytes, chunk: body.request, state, options });
  } catch (error) {
    return errorAnswer(
      error instanceof ApiError ? error : new ApiError(500, 'ERR001', `Internal emulator error: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
}

interface Call {
  req: IncomingMessage;
  url: URL;
  bytes: Buffer;
  /** A chunk PUT body already read in its usual shape; `bytes` is then empty. */
  chunk: DecodedChunkRequest | undefined;
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

// Runs one route and returns its answer. Checks run auth → project → body.
function dispatch(route: Route, call: Call): Answer {
  const { req, url, bytes, state, options } = call;
  switch (route.name) {
    case 'login':
      return login(call);
    case 'logout':
      state.logout(authenticate(call));
      return emptyAnswer(204);
    case 'sessions': {
      const session = authenticate(call);
      if (req.method === 'PUT') return emptyAnswer(204);
      return jsonAnswer(200, { username: session.username, timeout: options.sessionIdleSeconds ?? 1800, workingSet: 10, maxSearch: 3 });
    }
    case 'projects':
      authenticate(call);
      return jsonAnswer(
        200,
        options.projects.map((p) => ({ id: p.id, name: p.name, alias: '', description: '', status: 0 })),
      );
    case 'models': {
      authenticate(call);
      const projectId = requireProject(call);
      const model = validateModel(jsonBody(req, bytes), { allowDuplicateModelNames: options.allowDuplicateModelNames, newId: newObjectId });
      return jsonAnswer(200, state.createDataset(projectId, model));
    }
    case 'dataset': {
      authenticate(call);
      const dataset = state.getDataset(requireProject(call), route.datasetId);
      return jsonAnswer(200, state.definitionOf(dataset, definitionFields(url)));
    }
    case 'uploadSessions': {
      const session = authenticate(call);
      const dataset = state.getDataset(requireProject(call), route.datasetId);
      const specs = validateUploadSessionRequest(jsonBody(req, bytes), dataset.model.tables, options.keepRows);
      return jsonAnswer(200, { uploadSessionId: state.openUploadSession(session, dataset, specs) });
    }
    case 'uploadSession': {
      const { dataset, upload } = findUpload(call, route.datasetId, route.sessionId);
      if (req.method === 'DELETE') {
        state.deleteUploadSession(upload);
      } else {
        const chunk = chunkRequest(call);
        state.addChunk(dataset, upload, chunk.tableName, chunk.index, chunk.data);
      }
      return emptyAnswer(200);
    }
    case 'publish': {
      const { dataset, upload } = findUpload(call, route.datasetId, route.sessionId);
      state.publish(dataset, upload);
      return emptyAnswer(200);
    }
    case 'publishStatus': {
      const { dataset, upload } = findUpload(call, route.datasetId, route.sessionId);
      const answer = state.publishStatus(dataset, upload);
      const status = options.publishStatusAsString ? String(answer.status) : answer.status;
      return jsonAnswer(200, { uploadSessionId: upload.id, status, message: answer.message });
    }
    case 'folder':
    case 'predefinedFolder': {
      authenticate(call);
      const projectId = requireProject(call);
      const folderId = route.name === 'folder' ? folderIdOf(route.folderId) : predefinedFolderId(route.folderType);
      return jsonAnswer(200, state.listFolder(projectId, folderId));
    }
    case 'inspectDatasets':
      return jsonAnswer(200, state.listDatasets());
    case 'inspectDataset': {
      const inspection = state.inspectDataset(route.datasetId);
      if (inspection === undefined) throw notFound(`Dataset ${route.datasetId} was not found`);
      return jsonAnswer(200, inspection);
    }
  }
}

const FOLDER_ID = /^[0-9A-Fa-f]{32}$/;

// Folders are not modelled: a model may name any well-formed folder id (§3.1), so every such id
// lists as a folder, empty until a dataset lands in it. Ids compare case-insensitively, as the
// model's folderId is stored upper-cased.
function folderIdOf(text: string): string {
  if (!FOLDER_ID.test(text)) throw notFound(`Folder ${JSON.stringify(text.slice(0, 40))} was not found`);
  return text.toUpperCase();
}

// preDefined/20 is the user's My Reports, where models without a folderId land (§8).
function predefinedFolderId(folderType: string): string {
  if (folderType === '20') return MY_REPORTS_FOLDER_ID;
  throw notFound(`Predefined folder ${JSON.stringify(folderType.slice(0, 20))} is not available in the emulator (only 20, My Reports)`);
}

function authenticate(call: Call): AuthSession {
  return call.state.authenticate(header(call.req, 'x-mstr-authtoken'), cookie(call.req, 'JSESSIONID'));
}

function findUpload(call: Call, datasetId: string, sessionId: string): { dataset: Dataset; upload: UploadSession } {
  const session = authenticate(call);
  const dataset = call.state.getDataset(requireProject(call), datasetId);
  return { dataset, upload: call.state.getUploadSession(session, dataset, sessionId) };
}

function login({ req, bytes, state }: Call): Answer {
  const fields = loginFields(req, bytes);
  const mode = fields.loginMode ?? '1';
  const loginMode = /^-?[0-9]+$/.test(mode) ? Number(mode) : Number.NaN;
  if (Number.isNaN(loginMode)) throw invalidInput(`loginMode ${JSON.stringify(mode)} is not an integer`);
  const session: AuthSession = state.login(fields.username, fields.password, loginMode);
  // Secure is left off on purpose: the emulator speaks plain http and clients must replay the cookie.
  return emptyAnswer(204, {
    'X-MSTR-AuthToken': session.token,
    'Set-Cookie': [`JSESSIONID=${session.jsessionId}; Path=${COOKIE_PATH}; HttpOnly`, `iSession=${session.token}; Path=${COOKIE_PATH}; HttpOnly`],
  });
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
