// A strict emulator of the Power BI push-dataset API and its Entra token endpoint on node:http,
// holding everything in memory. It refuses what the contract (powerbi-push-api.md) says the
// service refuses, answers every documented limit with 429 and Retry-After, and where the
// contract is UNCONFIRMED takes the stricter choice of DECISIONS.md unless a switch says otherwise.

import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeUtf8, emulatorLifetime, header, isJsonMediaType, mediaType, readBody } from '../http-plumbing.js';
import type { ReadBody } from '../http-plumbing.js';
import { parseStrictJson } from '../json-strict.js';
import type { StrictJsonValue } from '../json-strict.js';
import { powerBiFaultBody } from './faults.js';
import type { PowerBiFaultOperation } from './faults.js';
import { resolveOptions } from './options.js';
import type { PowerBiEmulatorOptions, ResolvedPowerBiEmulatorOptions } from './options.js';
import { PowerBiEmulatorState } from './state.js';
import type { Retention, StoredDataset, ThrottleReason } from './state.js';
import { PbiApiError, badRequest, validateCreateDataset, validateRows, validateTable } from './validate.js';

export { describeSwitches, DEFAULT_CLIENT, DEFAULT_SCOPE, DEFAULT_TENANT, DEFAULT_WORKSPACE } from './options.js';
export type { PowerBiEmulatorOptions, PowerBiEmulatorSwitch } from './options.js';
export { PowerBiEmulatorState, checksumOf } from './state.js';
export type { DatasetInspection, EmulatorStats, PostRowsRecord, TableInspection, ThrottleReason } from './state.js';
export type { Cell } from './validate.js';
export { POWERBI_FAULT_OPERATIONS, parsePowerBiFaultRule, parsePowerBiFaultRules } from './faults.js';
export type { PowerBiFaultAction, PowerBiFaultOperation, PowerBiFaultRule, PowerBiFiredFault } from './faults.js';

export interface PowerBiEmulator {
  /** REST root, e.g. http://127.0.0.1:PORT/v1.0/myorg. */
  apiUrl: string;
  /** Sign-in host, e.g. http://127.0.0.1:PORT (the token endpoint is {authorityUrl}/{tenant}/oauth2/v2.0/token). */
  authorityUrl: string;
  port: number;
  close(): Promise<void>;
  /** The in-memory state, for tests. */
  state: PowerBiEmulatorState;
}

const API_BASE = '/v1.0/myorg';
const INSPECTION_BASE = '/__emulator';
const RESOURCE_SUFFIX = '/.default';

/** Starts the emulator and resolves once it listens. Invalid options throw a UsageError. */
export async function startPowerBiEmulator(options: PowerBiEmulatorOptions = {}): Promise<PowerBiEmulator> {
  const resolved = resolveOptions(options);
  const state = new PowerBiEmulatorState(resolved);
  const lifetime = emulatorLifetime();
  const context: ServerContext = { state, options: resolved, origin: '', pause: lifetime.pause };
  const server = await lifetime.listen(resolved.host, resolved.port, (req, res) => {
    void handleRequest(req, res, context);
  });
  context.origin = server.origin;
  return { apiUrl: `${server.origin}${API_BASE}`, authorityUrl: server.origin, port: server.port, state, close: server.close };
}


// ---------------------------------------------------------------------------------------------
// Plumbing


// Answers of requests hit by reset-after: the request is applied, then the connection dropped.
const dropped = new WeakSet<ServerResponse>();

function send(res: ServerResponse, status: number, body: object | undefined, headers: Record<string, string> = {}): void {
  if (dropped.has(res)) {
    res.destroy();
    return;
  }
  // A delayed answer may find the client gone; the request was applied all the same.
  if (res.destroyed || res.socket?.destroyed === true) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    RequestId: randomUUID(),
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}



function jsonBody(req: IncomingMessage, bytes: Buffer): StrictJsonValue {
  if (!isJsonMediaType(req)) {
    throw new PbiApiError(415, { error: { code: 'UnsupportedMediaType', message: 'Content-Type must be application/json' } }, 'unsupported media type');
  }
  const text = decodeUtf8(bytes);
  if (text === undefined) throw badRequest('The request body is not valid UTF-8.', 'request');
  try {
    return parseStrictJson(text);
  } catch (error) {
    throw badRequest(`The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, 'request');
  }
}

// ---------------------------------------------------------------------------------------------
// Routing

type Route =
  | { name: 'token'; tenant: string }
  | { name: 'groups' }
  | { name: 'datasets'; group: string | null }
  | { name: 'dataset'; group: string | null; datasetId: string }
  | { name: 'tables'; group: string | null; datasetId: string }
  | { name: 'table'; group: string | null; datasetId: string; table: string }
  | { name: 'rows'; group: string | null; datasetId: string; table: string }
  | { name: 'inspectDatasets' }
  | { name: 'inspectDataset'; datasetId: string }
  | { name: 'inspectStats' }
  | { name: 'inspectPostRows' }
  | { name: 'expireTokens' };

const METHODS: Record<Route['name'], readonly string[]> = {
  token: ['POST'],
  groups: ['GET'],
  datasets: ['GET', 'POST'],
  dataset: ['GET', 'DELETE'],
  tables: ['GET'],
  table: ['PUT'],
  rows: ['POST', 'DELETE'],
  inspectDatasets: ['GET'],
  inspectDataset: ['GET'],
  inspectStats: ['GET'],
  inspectPostRows: ['GET'],
  expireTokens: ['POST'],
};

function matchRoute(pathname: string): Route | undefined {
  let segments: string[];
  try {
    segments = pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (segments.some((s) => s === '')) return undefined;
  if (pathname.startsWith(`${INSPECTION_BASE}/`)) {
    const [, a, b, ...rest] = segments;
    if (rest.length > 0) return undefined;
    if (a === 'datasets' && b === undefined) return { name: 'inspectDatasets' };
    if (a === 'datasets' && b !== undefined) return { name: 'inspectDataset', datasetId: b };
    if (a === 'stats' && b === undefined) return { name: 'inspectStats' };
    if (a === 'post-rows' && b === undefined) return { name: 'inspectPostRows' };
    if (a === 'expire-tokens' && b === undefined) return { name: 'expireTokens' };
    return undefined;
  }
  if (segments.length === 4 && segments[1] === 'oauth2' && segments[2] === 'v2.0' && segments[3] === 'token') {
    return { name: 'token', tenant: segments[0]! };
  }
  if (segments[0] !== 'v1.0' || segments[1] !== 'myorg') return undefined;
  let rest = segments.slice(2);
  let group: string | null = null;
  if (rest[0] === 'groups') {
    if (rest.length === 1) return { name: 'groups' };
    group = rest[1]!;
    rest = rest.slice(2);
  }
  if (rest[0] !== 'datasets') return undefined;
  const [, datasetId, tables, table, rows, ...more] = rest;
  if (more.length > 0) return undefined;
  if (datasetId === undefined) return { name: 'datasets', group };
  if (tables === undefined) return { name: 'dataset', group, datasetId };
  if (tables !== 'tables') return undefined;
  if (table === undefined) return { name: 'tables', group, datasetId };
  if (rows === undefined) return { name: 'table', group, datasetId, table };
  return rows === 'rows' ? { name: 'rows', group, datasetId, table } : undefined;
}

function parseUrl(target: string | undefined): URL {
  try {
    return new URL(`http://emulator.invalid${target?.startsWith('/') === true ? target : '/'}`);
  } catch {
    return new URL('/', 'http://emulator.invalid');
  }
}

// The operation a fault rule names for a request; inspection routes and refused methods have none.
function operationOf(route: Route, method: string): PowerBiFaultOperation | undefined {
  if (!METHODS[route.name].includes(method)) return undefined;
  switch (route.name) {
    case 'token':
    case 'groups':
    case 'tables':
      return route.name;
    case 'datasets':
      return method === 'POST' ? 'create' : 'datasets';
    case 'dataset':
      return method === 'DELETE' ? 'delete-dataset' : 'dataset';
    case 'table':
      return 'put-table';
    case 'rows':
      return method === 'DELETE' ? 'delete-rows' : 'rows';
    default:
      return undefined;
  }
}

interface ServerContext {
  state: PowerBiEmulatorState;
  options: ResolvedPowerBiEmulatorOptions;
  /** http://host:port, known once the server listens. */
  origin: string;
  /** Resolves true after `ms`, or false as soon as the emulator closes. */
  pause: (ms: number) => Promise<boolean>;
}

// Faults run in the order their rules were given: delays wait, expire-token ends the caller's
// token, a status answers without applying, reset-before drops the connection unread, and
// reset-after lets the request be applied but drops the connection instead of answering.
async function handleRequest(req: IncomingMessage, res: ServerResponse, context: ServerContext): Promise<void> {
  const { state, options } = context;
  const method = req.method ?? 'GET';
  const url = parseUrl(req.url);
  state.stats.requests++;
  const route = matchRoute(url.pathname);
  const operation = route === undefined ? undefined : operationOf(route, method);
  const hit = operation === undefined ? { nth: 0, rules: [] } : state.faults.next(operation);
  const fired: string[] = [];
  let outcome = '';
  let body: ReadBody | undefined;
  try {
    // Reading is skipped only when the connection is to be dropped unread.
    if (!hit.rules.some((r) => r.action.kind === 'reset-before')) body = await readBody(req, options.maxBodyBytes);
    for (const rule of hit.rules) {
      state.faults.record(rule, hit.nth);
      fired.push(rule.text);
      const action = rule.action;
      if (action.kind === 'delay') {
        if (!(await context.pause(action.ms))) {
          outcome = 'dropped (emulator closing)';
          res.destroy();
          return;
        }
      } else if (action.kind === 'expire-token') {
        state.expireToken(header(req, 'authorization'));
      } else if (action.kind === 'reset-after') {
        dropped.add(res);
      } else if (action.kind === 'reset-before') {
        req.socket.destroy();
        outcome = 'reset before reading';
        if (route?.name === 'rows') recordFaultedRows(state, route, undefined, 0, fired);
        return;
      } else if (operation !== undefined) {
        body ??= await readBody(req, options.maxBodyBytes);
        const retryAfter: Record<string, string> = action.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(action.retryAfterSeconds) };
        if (route?.name === 'rows' && method === 'POST') recordFaultedRows(state, route, body, action.status, fired, action.retryAfterSeconds);
        send(res, action.status, powerBiFaultBody(action.status, operation, rule.text), retryAfter);
        outcome = `${action.status} (fault)`;
        return;
      }
    }
    body ??= await readBody(req, options.maxBodyBytes);
  } catch {
    // Only reading the body can fail here: the client went away mid-request.
    res.destroy();
    outcome = 'dropped (request body not received)';
    return;
  } finally {
    if (outcome !== '') options.log?.(`${method} ${url.pathname} ${outcome}${fired.length > 0 ? ` [fault ${fired.join(', ')}]` : ''}`);
  }
  let status = 500;
  let note = '';
  try {
    if (route === undefined) {
      throw new PbiApiError(404, { error: { code: 'NotFound', message: `No HTTP resource was found that matches the request URI '${url.pathname}'.` } }, 'no route');
    }
    const allowed = METHODS[route.name];
    if (!allowed.includes(method)) {
      throw new PbiApiError(405, { error: { code: 'MethodNotAllowed', message: `The requested resource does not support http method '${method}'.` } }, 'method', {
        Allow: allowed.join(', '),
      });
    }
    const call: Call = { req, res, url, body, state, options, origin: context.origin, fault: fired.length > 0 ? fired.join(', ') : undefined };
    status = route.name === 'rows' && method === 'POST' ? await postRows(call, route) : dispatch(call, route);
  } catch (error) {
    const apiError =
      error instanceof PbiApiError
        ? error
        : new PbiApiError(500, { error: { code: 'InternalServerError', message: `Internal emulator error: ${error instanceof Error ? error.message : String(error)}` } }, 'internal');
    status = apiError.status;
    note = ` ${apiError.message}`;
    send(res, apiError.status, apiError.body, apiError.headers);
  } finally {
    const reset = dropped.has(res) ? ' (applied, then the connection was reset)' : '';
    options.log?.(`${method} ${url.pathname} ${status}${note}${reset}${fired.length > 0 ? ` [fault ${fired.join(', ')}]` : ''}`);
  }
}

/** Logs a POST rows request a fault answered (or dropped) before the emulator looked at it. */
function recordFaultedRows(
  state: PowerBiEmulatorState,
  route: Extract<Route, { name: 'rows' }>,
  body: ReadBody | undefined,
  status: number,
  fired: readonly string[],
  retryAfterSeconds?: number,
): void {
  let rows = 0;
  try {
    const parsed = body === undefined ? undefined : (JSON.parse(body.bytes.toString('utf8')) as { rows?: unknown });
    if (Array.isArray(parsed?.rows)) rows = parsed.rows.length;
  } catch {
    rows = 0;
  }
  const now = Date.now();
  state.recordPostRows({
    datasetId: route.datasetId.toLowerCase(),
    table: route.table,
    rows,
    bodySha256: body === undefined ? '' : createHash('sha256').update(body.bytes).digest('hex'),
    arrivedAt: now,
    answeredAt: now,
    status,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    fault: fired.join(', '),
  });
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: ReadBody;
  state: PowerBiEmulatorState;
  options: ResolvedPowerBiEmulatorOptions;
  origin: string;
  /** The fault rules that hit this request and let it through (delay, expire-token, reset-after). */
  fault: string | undefined;
}

function tooLarge(call: Call): PbiApiError {
  return new PbiApiError(
    413,
    { error: { code: 'RequestEntityTooLarge', message: `The request body of ${call.body.size} bytes is larger than the ${call.options.maxBodyBytes} bytes allowed.` } },
    'request entity too large',
  );
}

function authenticate(call: Call): string {
  return call.state.authenticate(header(call.req, 'authorization'));
}

/** Auth, then workspace, then dataset: the order the service reveals things in. */
function findDataset(call: Call, group: string | null, datasetId: string): StoredDataset {
  authenticate(call);
  call.state.checkWorkspace(group);
  return call.state.getDataset(group, datasetId);
}

function context(call: Call, group: string | null, suffix: string): string {
  return `${call.origin}${API_BASE}${group === null ? '' : `/groups/${group}`}/$metadata#${suffix}`;
}

function datasetJson(d: StoredDataset): object {
  return {
    id: d.id,
    name: d.name,
    webUrl: `https://app.powerbi.com/groups/${d.groupId ?? 'me'}/datasets/${d.id}`,
    addRowsAPIEnabled: true,
    configuredBy: d.configuredBy,
    isRefreshable: false,
    isEffectiveIdentityRequired: false,
    isEffectiveIdentityRolesRequired: false,
    isOnPremGatewayRequired: false,
    createdDate: d.createdDate,
  };
}

function dispatch(call: Call, route: Route): number {
  const { req, res, state, options, body } = call;
  const method = req.method;
  if (body.tooLarge) throw tooLarge(call);
  switch (route.name) {
    case 'token':
      return token(call, route.tenant);
    case 'groups': {
      authenticate(call);
      const value = filterGroups(call.url, options.workspaces.map((w) => ({ id: w.id, isReadOnly: false, isOnDedicatedCapacity: false, name: w.name })));
      send(res, 200, { '@odata.context': `${call.origin}${API_BASE}/$metadata#groups`, value });
      return 200;
    }
    case 'datasets': {
      const clientId = authenticate(call);
      state.checkWorkspace(route.group);
      if (method === 'GET') {
        send(res, 200, { '@odata.context': context(call, route.group, 'datasets'), value: state.listDatasets(route.group).map(datasetJson) });
        return 200;
      }
      const retention = parseRetentionQuery(call.url);
      const definition = validateCreateDataset(jsonBody(req, body.bytes), options);
      const dataset = state.createDataset(route.group, definition, retention, clientId);
      const status = options.acceptedCreate ? 202 : 201;
      send(res, status, {
        '@odata.context': context(call, route.group, 'datasets/$entity'),
        id: dataset.id,
        name: dataset.name,
        defaultRetentionPolicy: dataset.retention,
      });
      return status;
    }
    case 'dataset': {
      const dataset = findDataset(call, route.group, route.datasetId);
      if (method === 'DELETE') {
        state.deleteDataset(dataset);
        send(res, 200, undefined);
        return 200;
      }
      send(res, 200, { '@odata.context': context(call, route.group, 'datasets/$entity'), ...datasetJson(dataset) });
      return 200;
    }
    case 'tables': {
      const dataset = findDataset(call, route.group, route.datasetId);
      const value = dataset.tables.map((t) => (options.tablesWithColumns ? { name: t.name, columns: t.columns.map((c) => ({ ...c })) } : { name: t.name }));
      send(res, 200, { '@odata.context': context(call, route.group, 'tables'), value });
      return 200;
    }
    case 'table': {
      const dataset = findDataset(call, route.group, route.datasetId);
      const table = state.getTable(dataset, route.table);
      const definition = validateTable(jsonBody(req, body.bytes), 'table', dataset.defaultMode, options);
      if (definition.name !== table.name) throw badRequest(`The table name '${definition.name}' does not match '${table.name}' in the path.`, 'table.name');
      state.replaceTableSchema(table, definition);
      send(res, 200, { name: table.name });
      return 200;
    }
    case 'rows': {
      const dataset = findDataset(call, route.group, route.datasetId);
      state.deleteRows(state.getTable(dataset, route.table));
      send(res, 200, undefined);
      return 200;
    }
    case 'inspectDatasets':
      send(res, 200, state.summarize());
      return 200;
    case 'inspectDataset': {
      const inspection = state.inspectDataset(route.datasetId);
      if (inspection === undefined) throw new PbiApiError(404, { error: { code: 'NotFound', message: `Dataset ${route.datasetId} was not found` } }, 'not found');
      send(res, 200, inspection);
      return 200;
    }
    case 'inspectStats':
      send(res, 200, state.stats);
      return 200;
    case 'inspectPostRows':
      send(res, 200, state.postRowsLog());
      return 200;
    case 'expireTokens':
      state.expireTokens();
      send(res, 204, undefined);
      return 204;
  }
}

/**
 * POST rows: auth, workspace, dataset, table; then a pending slot (429 past maxPending), the body
 * (413, 400), the rate windows (429) and, after the optional delay, the rows are stored. Every
 * attempt is logged with its body's hash so tests can tell a resend from a new batch.
 */
async function postRows(call: Call, route: Extract<Route, { name: 'rows' }>): Promise<number> {
  const { state, options, body } = call;
  const arrivedAt = Date.now();
  const dataset = findDataset(call, route.group, route.datasetId);
  const table = state.getTable(dataset, route.table);
  const bodySha256 = createHash('sha256').update(body.bytes).digest('hex');
  let rows = 0;
  const record = (status: number, throttled?: PbiApiError) => {
    const reason = (throttled as (PbiApiError & { reason?: ThrottleReason }) | undefined)?.reason;
    const retryAfter = throttled?.headers['Retry-After'];
    state.recordPostRows({
      datasetId: dataset.id,
      table: table.name,
      rows,
      bodySha256,
      arrivedAt,
      answeredAt: Date.now(),
      status,
      ...(retryAfter !== undefined ? { retryAfterSeconds: Number(retryAfter) } : {}),
      ...(reason !== undefined ? { reason } : {}),
      ...(call.fault !== undefined ? { fault: call.fault } : {}),
    });
  };
  try {
    state.enterPending(dataset);
  } catch (error) {
    if (error instanceof PbiApiError) record(error.status, error);
    throw error;
  }
  try {
    if (body.tooLarge) throw tooLarge(call);
    const parsed = validateRows(jsonBody(call.req, body.bytes), table, options);
    rows = parsed.length;
    state.admitRows(dataset, table, rows);
    if (options.postRowsDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, options.postRowsDelayMs));
    state.appendRows(dataset, table, parsed);
    record(200);
    send(call.res, 200, undefined);
    return 200;
  } catch (error) {
    if (error instanceof PbiApiError) record(error.status, error);
    throw error;
  } finally {
    state.leavePending(dataset);
  }
}

function parseRetentionQuery(url: URL): Retention {
  const value = url.searchParams.get('defaultRetentionPolicy');
  if (value === null) return 'None';
  const lower = value.toLowerCase();
  if (lower === 'none') return 'None';
  if (lower === 'basicfifo') return 'basicFIFO';
  throw badRequest(`defaultRetentionPolicy '${value}' is not one of None, basicFIFO.`, 'defaultRetentionPolicy');
}

// OData subset of Get Groups (§2.7): name eq '...', contains(name,'...'), $top, $skip.
function filterGroups<T extends { name: string }>(url: URL, groups: T[]): T[] {
  let result = groups;
  const filter = url.searchParams.get('$filter');
  if (filter !== null) {
    const eq = /^\s*name\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
    const contains = /^\s*contains\(\s*name\s*,\s*'((?:[^']|'')*)'\s*\)\s*$/i.exec(filter);
    if (eq) result = result.filter((g) => g.name === eq[1]!.replace(/''/g, "'"));
    else if (contains) result = result.filter((g) => g.name.includes(contains[1]!.replace(/''/g, "'")));
    else throw badRequest(`The $filter '${filter}' is not supported by the emulator.`, '$filter');
  }
  const skip = Number(url.searchParams.get('$skip') ?? '0');
  const top = url.searchParams.get('$top');
  return result.slice(skip, top === null ? undefined : skip + Number(top));
}

// ---------------------------------------------------------------------------------------------
// Token endpoint (entra-docs v2-oauth2-client-creds-grant-flow.md)

function tokenError(status: number, error: string, code: number, description: string): PbiApiError {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return new PbiApiError(
    status,
    {
      error,
      error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    },
    `${error} AADSTS${code}`,
  );
}

function token(call: Call, tenant: string): number {
  const { req, res, state, options } = call;
  if (['common', 'organizations', 'consumers'].includes(tenant.toLowerCase())) {
    throw tokenError(400, 'invalid_request', 50059, `Use a tenant-specific endpoint for the client credentials flow, not /${tenant}.`);
  }
  if (tenant.toLowerCase() !== options.tenant.toLowerCase()) {
    throw tokenError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
  }
  if (mediaType(req).type !== 'application/x-www-form-urlencoded') {
    throw tokenError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
  }
  const text = decodeUtf8(call.body.bytes);
  if (text === undefined) throw tokenError(400, 'invalid_request', 900144, 'The request body is not valid UTF-8.');
  const form = new URLSearchParams(text);
  const grantType = form.get('grant_type');
  if (grantType === null) throw tokenError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
  if (grantType !== 'client_credentials') throw tokenError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
  // The secret may come in the form or as HTTP Basic credentials.
  let clientId = form.get('client_id');
  let secret = form.get('client_secret');
  const basic = /^Basic\s+(\S+)$/i.exec(header(req, 'authorization') ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      clientId ??= decodeURIComponent(decoded.slice(0, colon));
      secret ??= decodeURIComponent(decoded.slice(colon + 1));
    }
  }
  if (clientId === null) throw tokenError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  const app = options.clients.find((c) => c.clientId.toLowerCase() === clientId.toLowerCase());
  if (app === undefined) {
    throw tokenError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${options.tenant}'.`);
  }
  if (secret === null) throw tokenError(400, 'invalid_client', 7000215, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  if (secret !== app.clientSecret) throw tokenError(400, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
  const scope = form.get('scope');
  if (scope === null) throw tokenError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
  if (scope !== options.scope) {
    throw tokenError(400, 'invalid_scope', 70011, `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`);
  }
  const issued = state.issueToken(app.clientId, scope.endsWith(RESOURCE_SUFFIX) ? scope.slice(0, -RESOURCE_SUFFIX.length) : scope);
  const expires = options.expiresInAsString ? String(issued.expiresIn) : issued.expiresIn;
  send(res, 200, { token_type: 'Bearer', expires_in: expires, ext_expires_in: expires, access_token: issued.token }, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  return 200;
}
