// Options of the Power BI emulator: the documented limits as defaults, switches for behaviour the
// contract leaves UNCONFIRMED (strictest choice first), a time scale for tests of the hourly
// limits, and a table describing every switch for the CLI and its docs.

import { UsageError } from '../../errors.js';
import { faultTexts } from '../faults.js';
import { FAULT_RULE_SYNTAX, POWERBI_FAULT_OPERATIONS, parsePowerBiFaultRules } from './faults.js';
import type { PowerBiFaultRule } from './faults.js';
import type { EmulatorSwitchOf } from '../switches.js';

export type MyWorkspaceMode = 'deny' | 'allow';
export type UnknownRowKeysMode = 'reject' | 'ignore';

export interface EmulatorClientApp {
  clientId: string;
  clientSecret: string;
}

export interface EmulatorWorkspace {
  id: string;
  name: string;
}

/** Every option is optional; the defaults follow powerbi-push-api.md and DECISIONS.md. */
export interface PowerBiEmulatorOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The one tenant the token endpoint knows (`/{tenant}/oauth2/v2.0/token`). */
  tenant?: string;
  /** Registered apps (service principals). Default one, see DEFAULT_CLIENT. */
  clients?: EmulatorClientApp[];
  /** Shorthand for a single app, used by the CLI switches; replaces `clients` when set. */
  clientId?: string;
  clientSecret?: string;
  /** Workspaces. Default one, see DEFAULT_WORKSPACE. */
  workspaces?: EmulatorWorkspace[];
  /** Shorthand for a single workspace id (named "Emulated workspace"); replaces `workspaces` when set. */
  group?: string;
  /** Service principals may not use My workspace (403), as documented; `allow` lets them. Default deny. */
  myWorkspace?: MyWorkspaceMode;
  /** The only scope the token endpoint accepts. */
  scope?: string;
  /** Lifetime of issued tokens, real seconds. Default 3599. */
  tokenLifetimeSeconds?: number;
  /** Send `expires_in` as a string, the way the v1 endpoint does. Default false. */
  expiresInAsString?: boolean;
  /** Answer dataset creation with 202 Accepted instead of 201 Created. Default false. */
  acceptedCreate?: boolean;
  /** List columns in Get Tables (the service usually lists names only). Default false. */
  tablesWithColumns?: boolean;
  /** A row key that is not a column is rejected (400) or ignored. Default reject. */
  unknownRowKeys?: UnknownRowKeysMode;
  /** Emulated time runs this many times faster than real time, for the rate windows. Default 1. */
  timeScale?: number;
  postsPerMinute?: number;
  maxPending?: number;
  rowsPerHour?: number;
  bigTableRows?: number;
  postsPerHourBigTable?: number;
  maxRowsPerPost?: number;
  maxBodyBytes?: number;
  maxStringLength?: number;
  maxColumns?: number;
  maxTables?: number;
  /** Each POST rows request is held this many real milliseconds before its answer. Default 0. */
  postRowsDelayMs?: number;
  /** false keeps only row counts, for long benchmarks. Default true. */
  keepRows?: boolean;
  /**
   * Fault rules, `<operation>[#<nth>][*<times>]=<action>` (see faults.ts), applied in the order
   * given, e.g. `rows#2=503` or `create=reset-after`. Default none.
   */
  faults?: readonly string[] | string;
  /** Receives one line per request. */
  log?: (line: string) => void;
}

export interface ResolvedPowerBiEmulatorOptions {
  port: number;
  host: string;
  tenant: string;
  clients: EmulatorClientApp[];
  workspaces: EmulatorWorkspace[];
  myWorkspace: MyWorkspaceMode;
  scope: string;
  tokenLifetimeSeconds: number;
  expiresInAsString: boolean;
  acceptedCreate: boolean;
  tablesWithColumns: boolean;
  unknownRowKeys: UnknownRowKeysMode;
  timeScale: number;
  postsPerMinute: number;
  maxPending: number;
  rowsPerHour: number;
  bigTableRows: number;
  postsPerHourBigTable: number;
  maxRowsPerPost: number;
  maxBodyBytes: number;
  maxStringLength: number;
  maxColumns: number;
  maxTables: number;
  postRowsDelayMs: number;
  keepRows: boolean;
  faults: PowerBiFaultRule[];
  log: ((line: string) => void) | undefined;
}

export const DEFAULT_TENANT = '6f2c1a9e-4b3d-4e8f-9a17-2c5d8e0b4f31';
export const DEFAULT_CLIENT: EmulatorClientApp = { clientId: 'c8d4e2f0-1a3b-4c5d-8e9f-0a1b2c3d4e5f', clientSecret: 'emulator-secret' };
export const DEFAULT_WORKSPACE: EmulatorWorkspace = { id: '4a7e2c19-0b5d-4f3e-8a61-d2c9b7e05f84', name: 'Emulated workspace' };
export const DEFAULT_SCOPE = 'https://analysis.windows.net/powerbi/api/.default';

/** One tunable behaviour, as the CLI shows it: `--${flag}`. */
export type PowerBiEmulatorSwitch = EmulatorSwitchOf<PowerBiEmulatorOptions>;

const SWITCHES: readonly PowerBiEmulatorSwitch[] = [
  { name: 'port', flag: 'port', kind: 'integer', default: '0', description: 'TCP port to listen on; 0 picks a free port.' },
  { name: 'host', flag: 'host', kind: 'string', default: '127.0.0.1', description: 'Address to listen on.' },
  { name: 'tenant', flag: 'tenant', kind: 'string', default: DEFAULT_TENANT, description: 'Tenant id the token endpoint accepts in its path.' },
  { name: 'clientId', flag: 'client-id', kind: 'string', default: DEFAULT_CLIENT.clientId, description: 'Client id of the one registered app.' },
  { name: 'clientSecret', flag: 'client-secret', kind: 'string', default: DEFAULT_CLIENT.clientSecret, description: 'Client secret of that app.' },
  { name: 'group', flag: 'group', kind: 'string', default: DEFAULT_WORKSPACE.id, description: 'Id of the one workspace (group).' },
  {
    name: 'myWorkspace',
    flag: 'my-workspace',
    kind: 'choice',
    choices: ['deny', 'allow'],
    default: 'deny',
    description: 'Service principals cannot use My workspace (403, as documented); allow lets them.',
  },
  { name: 'scope', flag: 'scope', kind: 'string', default: DEFAULT_SCOPE, description: 'The only scope the token endpoint accepts (others: 400 invalid_scope).' },
  {
    name: 'tokenLifetimeSeconds',
    flag: 'token-lifetime-seconds',
    kind: 'number',
    default: '3599',
    description: 'Lifetime of issued tokens in real seconds; an expired token gets 403 TokenExpired.',
  },
  { name: 'expiresInAsString', flag: 'expires-in-as-string', kind: 'boolean', default: 'false', description: 'Send expires_in as a string, as the v1 endpoint does.' },
  { name: 'acceptedCreate', flag: 'accepted-create', kind: 'boolean', default: 'false', description: 'Answer dataset creation with 202 Accepted instead of 201 Created.' },
  {
    name: 'tablesWithColumns',
    flag: 'tables-with-columns',
    kind: 'boolean',
    default: 'false',
    description: 'List columns in Get Tables; by default it lists names only, as the service usually does.',
  },
  {
    name: 'unknownRowKeys',
    flag: 'unknown-row-keys',
    kind: 'choice',
    choices: ['reject', 'ignore'],
    default: 'reject',
    description: 'A row key that is not a column of the table is rejected with 400, or ignored.',
  },
  {
    name: 'timeScale',
    flag: 'time-scale',
    kind: 'number',
    default: '1',
    description: 'Run the rate-limit clock this many times faster (60: a minute per second; 3600: an hour per second). Retry-After stays in real seconds.',
  },
  { name: 'postsPerMinute', flag: 'posts-per-minute', kind: 'integer', default: '120', description: 'POST rows requests per minute per dataset; more get 429.' },
  { name: 'maxPending', flag: 'max-pending', kind: 'integer', default: '5', description: 'POST rows requests in flight per dataset; more get 429.' },
  { name: 'rowsPerHour', flag: 'rows-per-hour', kind: 'integer', default: '1000000', description: 'Rows added per hour per dataset; more get 429.' },
  { name: 'bigTableRows', flag: 'big-table-rows', kind: 'integer', default: '250000', description: 'From this many rows in the target table, the hourly request limit applies.' },
  {
    name: 'postsPerHourBigTable',
    flag: 'posts-per-hour-big-table',
    kind: 'integer',
    default: '120',
    description: 'POST rows requests per hour per dataset once the target table holds big-table-rows rows; more get 429.',
  },
  { name: 'maxRowsPerPost', flag: 'max-rows-per-post', kind: 'integer', default: '10000', description: 'Rows per POST rows request; more get 400.' },
  { name: 'maxBodyBytes', flag: 'max-body-bytes', kind: 'integer', default: '16000000', description: 'Largest request body in bytes; larger bodies get 413.' },
  { name: 'maxStringLength', flag: 'max-string-length', kind: 'integer', default: '4000', description: 'Longest String value in characters; longer values get 400.' },
  { name: 'postRowsDelayMs', flag: 'post-rows-delay-ms', kind: 'integer', default: '0', description: 'Hold each POST rows request this many milliseconds before answering.' },
  { name: 'keepRows', flag: 'keep-rows', kind: 'boolean', default: 'true', description: 'Keep rows for inspection; false keeps only row counts.' },
  {
    name: 'faults',
    flag: 'fail',
    kind: 'string',
    repeatable: true,
    default: '(none)',
    description:
      `Inject a fault (repeatable; rules run in the order given): ${FAULT_RULE_SYNTAX}. Operations: ${POWERBI_FAULT_OPERATIONS.join(', ')}; ` +
      "nth counts that operation's requests from 1, times defaults to 1 (inf = all). " +
      'Actions: a status such as 503 (not applied), 429:<seconds> (with Retry-After), reset-before (connection dropped, not applied), ' +
      'reset-after (applied, then dropped), delay:<ms>, expire-token (the caller\'s token expires first: 403 TokenExpired). Example: --fail rows#2=503 --fail create=reset-after',
  },
];

/** The tunable behaviours with their defaults, for `mstrpush emulator powerbi --help` and the docs. */
export function describeSwitches(): PowerBiEmulatorSwitch[] {
  return SWITCHES.map((s) => ({ ...s }));
}

/** Fills in defaults and refuses values the emulator cannot honour. */
export function resolveOptions(options: PowerBiEmulatorOptions = {}): ResolvedPowerBiEmulatorOptions {
  const clients =
    options.clientId !== undefined || options.clientSecret !== undefined
      ? [{ clientId: options.clientId ?? DEFAULT_CLIENT.clientId, clientSecret: options.clientSecret ?? DEFAULT_CLIENT.clientSecret }]
      : (options.clients ?? [DEFAULT_CLIENT]).map((c) => ({ ...c }));
  const workspaces =
    options.group !== undefined ? [{ id: options.group, name: DEFAULT_WORKSPACE.name }] : (options.workspaces ?? [DEFAULT_WORKSPACE]).map((w) => ({ ...w }));
  const resolved: ResolvedPowerBiEmulatorOptions = {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    tenant: options.tenant ?? DEFAULT_TENANT,
    clients,
    workspaces,
    myWorkspace: options.myWorkspace ?? 'deny',
    scope: options.scope ?? DEFAULT_SCOPE,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    expiresInAsString: options.expiresInAsString ?? false,
    acceptedCreate: options.acceptedCreate ?? false,
    tablesWithColumns: options.tablesWithColumns ?? false,
    unknownRowKeys: options.unknownRowKeys ?? 'reject',
    timeScale: options.timeScale ?? 1,
    postsPerMinute: options.postsPerMinute ?? 120,
    maxPending: options.maxPending ?? 5,
    rowsPerHour: options.rowsPerHour ?? 1_000_000,
    bigTableRows: options.bigTableRows ?? 250_000,
    postsPerHourBigTable: options.postsPerHourBigTable ?? 120,
    maxRowsPerPost: options.maxRowsPerPost ?? 10_000,
    maxBodyBytes: options.maxBodyBytes ?? 16_000_000,
    maxStringLength: options.maxStringLength ?? 4000,
    maxColumns: options.maxColumns ?? 75,
    maxTables: options.maxTables ?? 75,
    postRowsDelayMs: options.postRowsDelayMs ?? 0,
    keepRows: options.keepRows ?? true,
    faults: parsePowerBiFaultRules(faultTexts(options.faults)),
    log: options.log,
  };
  const problems: string[] = [];
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) problems.push('port must be an integer 0-65535');
  for (const key of ['postsPerMinute', 'maxPending', 'rowsPerHour', 'postsPerHourBigTable', 'maxRowsPerPost', 'maxBodyBytes', 'maxStringLength', 'maxColumns', 'maxTables'] as const) {
    if (!Number.isSafeInteger(resolved[key]) || resolved[key] < 1) problems.push(`${key} must be a positive integer`);
  }
  if (!Number.isSafeInteger(resolved.bigTableRows) || resolved.bigTableRows < 0) problems.push('bigTableRows must be an integer >= 0');
  if (!Number.isSafeInteger(resolved.postRowsDelayMs) || resolved.postRowsDelayMs < 0) problems.push('postRowsDelayMs must be an integer >= 0');
  if (!(resolved.timeScale > 0) || !Number.isFinite(resolved.timeScale)) problems.push('timeScale must be a positive number');
  if (!(resolved.tokenLifetimeSeconds > 0) || !Number.isFinite(resolved.tokenLifetimeSeconds)) problems.push('tokenLifetimeSeconds must be a positive number');
  if (!['deny', 'allow'].includes(resolved.myWorkspace)) problems.push('myWorkspace must be deny or allow');
  if (!['reject', 'ignore'].includes(resolved.unknownRowKeys)) problems.push('unknownRowKeys must be reject or ignore');
  if (resolved.tenant.trim() === '') problems.push('tenant must not be empty');
  if (resolved.clients.length === 0 || resolved.clients.some((c) => c.clientId === '' || c.clientSecret === '')) problems.push('every app needs a client id and a secret');
  if (resolved.workspaces.length === 0 || resolved.workspaces.some((w) => w.id === '')) problems.push('at least one workspace with an id is required');
  if (problems.length > 0) throw new UsageError(`invalid emulator options: ${problems.join('; ')}`);
  return resolved;
}
