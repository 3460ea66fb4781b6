// Options of the MicroStrategy emulator: the strict defaults, the switches for behaviour the
// vendor contract leaves UNCONFIRMED, and a table describing them for the CLI and its docs.

import { UsageError } from '../../errors.js';
import { FAULT_RULE_SYNTAX, parseFaultRules } from './faults.js';
import type { FaultRule } from './faults.js';
import type { EmulatorSwitchOf } from '../switches.js';

export type DuplicateChunkIndexMode = 'overwrite' | 'reject';
export type InvalidDateMode = 'reject' | 'null';
export type PublishOutcome = 'succeed' | 'fail' | 'never';
export type SameNameDatasetMode = 'overwrite' | 'reject';

export interface EmulatorUser {
  username: string;
  password: string;
}

export interface EmulatorProject {
  id: string;
  name: string;
}

/** Every option is optional; the defaults are the strict choices recorded in DECISIONS.md. */
export interface MstrEmulatorOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default one user, etl / etl-secret. */
  users?: EmulatorUser[];
  /** Default one project, B7CA92F04B9FAE8D941C3E9B7E0CD754 "Demo". IDs are 32 upper-case hex. */
  projects?: EmulatorProject[];
  /** A token without its JSESSIONID cookie is 401 ERR009. Default true. */
  requireCookie?: boolean;
  /** publishStatus sends `"status": "1"` instead of `1`. Default false. */
  publishStatusAsString?: boolean;
  /** A chunk index sent twice for one table replaces the earlier chunk, or is 400 ERR006. Default overwrite. */
  duplicateChunkIndex?: DuplicateChunkIndexMode;
  /** An invalid DATE/TIME/DATETIME value is 400 ERR006, or silently stored as null. Default reject. */
  invalidDate?: InvalidDateMode;
  /** Request bodies above this are 413. Default 256 MiB. */
  maxBodyBytes?: number;
  /** Auth sessions idle for longer than this (fractions allowed) are 401 ERR009. Default: never expire. */
  sessionIdleSeconds?: number;
  /** An upload session stays usable from a new login; false binds it to the login that opened it. Default true. */
  uploadSessionSurvivesRelogin?: boolean;
  /** publishStatus answers 6 "sql execution" this many times before the final status. Default 2. */
  publishPolls?: number;
  /** succeed ends with 1, fail with 3 and a message, never stays at 6. Default succeed. */
  publishOutcome?: PublishOutcome;
  /** Allows repeated attribute/metric names and repeated column or table names in a model. Default false. */
  allowDuplicateModelNames?: boolean;
  /** A model named like an existing dataset in the same folder overwrites it (same id) or is 409 ERR015. Default overwrite. */
  sameNameDataset?: SameNameDatasetMode;
  /** false keeps only row counts and checksums, for benchmarks of gigabytes. Default true. */
  keepRows?: boolean;
  /**
   * Fault rules, `<operation>[#<nth>][*<times>]=<action>` (see faults.ts), applied in the order
   * given; an entry may also hold several comma-separated rules. Default none.
   */
  faults?: readonly string[];
  /** Receives one line per request. */
  log?: (line: string) => void;
}

export interface ResolvedMstrEmulatorOptions {
  port: number;
  host: string;
  users: EmulatorUser[];
  projects: EmulatorProject[];
  requireCookie: boolean;
  publishStatusAsString: boolean;
  duplicateChunkIndex: DuplicateChunkIndexMode;
  invalidDate: InvalidDateMode;
  maxBodyBytes: number;
  sessionIdleSeconds: number | undefined;
  uploadSessionSurvivesRelogin: boolean;
  publishPolls: number;
  publishOutcome: PublishOutcome;
  allowDuplicateModelNames: boolean;
  sameNameDataset: SameNameDatasetMode;
  keepRows: boolean;
  faults: FaultRule[];
  log: ((line: string) => void) | undefined;
}

export const DEFAULT_PROJECT: EmulatorProject = { id: 'B7CA92F04B9FAE8D941C3E9B7E0CD754', name: 'Demo' };
export const DEFAULT_USER: EmulatorUser = { username: 'etl', password: 'etl-secret' };
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;

/** One tunable behaviour, as the CLI shows it: `--${flag}`. */
export type EmulatorSwitch = EmulatorSwitchOf<MstrEmulatorOptions>;

const SWITCHES: readonly EmulatorSwitch[] = [
  { name: 'port', flag: 'port', kind: 'integer', default: '0', description: 'TCP port to listen on; 0 picks a free port.' },
  { name: 'host', flag: 'host', kind: 'string', default: '127.0.0.1', description: 'Address to listen on.' },
  {
    name: 'requireCookie',
    flag: 'require-cookie',
    kind: 'boolean',
    default: 'true',
    description: 'Reject a valid X-MSTR-AuthToken that arrives without the JSESSIONID cookie of its login (401 ERR009).',
  },
  {
    name: 'publishStatusAsString',
    flag: 'publish-status-as-string',
    kind: 'boolean',
    default: 'false',
    description: 'Send publishStatus "status" as a string ("1") instead of a JSON number.',
  },
  {
    name: 'duplicateChunkIndex',
    flag: 'duplicate-chunk-index',
    kind: 'choice',
    choices: ['overwrite', 'reject'],
    default: 'overwrite',
    description: 'A chunk index received twice for one table replaces the earlier chunk, or is rejected with 400 ERR006.',
  },
  {
    name: 'invalidDate',
    flag: 'invalid-date',
    kind: 'choice',
    choices: ['reject', 'null'],
    default: 'reject',
    description: 'An invalid DATE, TIME or DATETIME value is rejected with 400 ERR006, or silently stored as null.',
  },
  {
    name: 'maxBodyBytes',
    flag: 'max-body-bytes',
    kind: 'integer',
    default: String(DEFAULT_MAX_BODY_BYTES),
    description: 'Largest accepted request body in bytes; larger bodies get 413.',
  },
  {
    name: 'sessionIdleSeconds',
    flag: 'session-idle-seconds',
    kind: 'number',
    default: '(none)',
    description: 'Expire a login after this many idle seconds (401 ERR009 afterwards); unset means never.',
  },
  {
    name: 'uploadSessionSurvivesRelogin',
    flag: 'upload-session-survives-relogin',
    kind: 'boolean',
    default: 'true',
    description:
      'Upload sessions can be continued from a new login. When false, an upload session belongs to the login that opened it and is cancelled when that login ends.',
  },
  {
    name: 'publishPolls',
    flag: 'publish-polls',
    kind: 'integer',
    default: '2',
    description: 'How many publishStatus polls answer 6 "sql execution" before the final status.',
  },
  {
    name: 'publishOutcome',
    flag: 'publish-outcome',
    kind: 'choice',
    choices: ['succeed', 'fail', 'never'],
    default: 'succeed',
    description: 'succeed ends with status 1; fail ends with status 3 and a message; never stays at 6. Only succeed changes the data.',
  },
  {
    name: 'allowDuplicateModelNames',
    flag: 'allow-duplicate-model-names',
    kind: 'boolean',
    default: 'false',
    description: 'Accept models with repeated attribute/metric names or repeated table or column names (otherwise 400 ERR006).',
  },
  {
    name: 'sameNameDataset',
    flag: 'same-name-dataset',
    kind: 'choice',
    choices: ['overwrite', 'reject'],
    default: 'overwrite',
    description:
      'A new model named like an existing dataset in the same folder overwrites it in place, keeping its id and dropping its rows, or is rejected with 409 ERR015.',
  },
  {
    name: 'keepRows',
    flag: 'keep-rows',
    kind: 'boolean',
    default: 'true',
    description: 'Keep published rows for inspection. false keeps only row counts and checksums (update/upsert are then refused).',
  },
  {
    name: 'faults',
    flag: 'fail',
    kind: 'string',
    repeatable: true,
    default: '(none)',
    description:
      `Inject a fault (repeatable; rules run in the order given): ${FAULT_RULE_SYNTAX}. Operations: login, logout, projects, sessions, folder, ` +
      'model, dataset, session, chunk, publish, status, cancel; nth counts that operation\'s requests from 1, times defaults to 1 (inf = all). ' +
      'Actions: a status such as 503 (not applied), 429:<seconds> (with Retry-After), reset-before (connection dropped, not applied), ' +
      'reset-after (applied, then dropped), delay:<ms>, expire-login. Example: --fail chunk#2=503 --fail model=reset-after',
  },
];

/** The tunable behaviours with their defaults, for `mstrpush emulator mstr --help` and the docs. */
export function describeSwitches(): EmulatorSwitch[] {
  return SWITCHES.map((s) => ({ ...s }));
}

const PROJECT_ID = /^[0-9A-F]{32}$/;

/** Fills in defaults and refuses values the emulator cannot honour. */
export function resolveOptions(options: MstrEmulatorOptions = {}): ResolvedMstrEmulatorOptions {
  const resolved: ResolvedMstrEmulatorOptions = {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    users: (options.users ?? [DEFAULT_USER]).map((u) => ({ ...u })),
    projects: (options.projects ?? [DEFAULT_PROJECT]).map((p) => ({ ...p })),
    requireCookie: options.requireCookie ?? true,
    publishStatusAsString: options.publishStatusAsString ?? false,
    duplicateChunkIndex: options.duplicateChunkIndex ?? 'overwrite',
    invalidDate: options.invalidDate ?? 'reject',
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    sessionIdleSeconds: options.sessionIdleSeconds,
    uploadSessionSurvivesRelogin: options.uploadSessionSurvivesRelogin ?? true,
    publishPolls: options.publishPolls ?? 2,
    publishOutcome: options.publishOutcome ?? 'succeed',
    allowDuplicateModelNames: options.allowDuplicateModelNames ?? false,
    sameNameDataset: options.sameNameDataset ?? 'overwrite',
    keepRows: options.keepRows ?? true,
    faults: parseFaultRules(faultTexts(options.faults)),
    log: options.log,
  };
  const problems: string[] = [];
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) problems.push('port must be an integer 0-65535');
  if (!Number.isSafeInteger(resolved.maxBodyBytes) || resolved.maxBodyBytes < 1) problems.push('maxBodyBytes must be a positive integer');
  if (resolved.sessionIdleSeconds !== undefined && !(resolved.sessionIdleSeconds > 0 && Number.isFinite(resolved.sessionIdleSeconds))) {
    problems.push('sessionIdleSeconds must be a positive number');
  }
  if (!Number.isInteger(resolved.publishPolls) || resolved.publishPolls < 0) problems.push('publishPolls must be an integer >= 0');
  checkChoice(problems, 'duplicateChunkIndex', resolved.duplicateChunkIndex, ['overwrite', 'reject']);
  checkChoice(problems, 'invalidDate', resolved.invalidDate, ['reject', 'null']);
  checkChoice(problems, 'publishOutcome', resolved.publishOutcome, ['succeed', 'fail', 'never']);
  checkChoice(problems, 'sameNameDataset', resolved.sameNameDataset, ['overwrite', 'reject']);
  if (resolved.users.length === 0) problems.push('at least one user is required');
  if (resolved.projects.length === 0) problems.push('at least one project is required');
  for (const project of resolved.projects) {
    if (!PROJECT_ID.test(project.id)) problems.push(`project id ${JSON.stringify(project.id)} must be 32 upper-case hex digits`);
  }
  if (new Set(resolved.projects.map((p) => p.id)).size !== resolved.projects.length) problems.push('project ids must be unique');
  if (problems.length > 0) throw new UsageError(`invalid emulator options: ${problems.join('; ')}`);
  return resolved;
}

// A single string is taken as one entry, so a non-repeatable flag value still works.
function faultTexts(faults: readonly string[] | string | undefined): readonly string[] {
  if (faults === undefined) return [];
  return typeof faults === 'string' ? [faults] : faults;
}

function checkChoice(problems: string[], name: string, value: string, choices: readonly string[]): void {
  if (!choices.includes(value)) problems.push(`${name} must be one of ${choices.join(', ')}`);
}
