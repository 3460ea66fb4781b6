// Fault rules for the MicroStrategy emulator (`--fail chunk#2=503`): the rule language, the error
// bodies injected statuses carry, and the per-operation request counter that decides which rules
// hit. Pure: the server does the waiting, resetting and answering.

import { UsageError } from '../../errors.js';
import { SESSION_EXPIRED_MESSAGE } from './api-error.js';
import type { MstrErrorCode } from './api-error.js';

/** The Push Data calls a rule can target, one per route and method. */
export const FAULT_OPERATIONS = [
  'login',
  'logout',
  'projects',
  'sessions',
  'folder',
  'model',
  'dataset',
  'session',
  'chunk',
  'publish',
  'status',
  'cancel',
] as const;

export type FaultOperation = (typeof FAULT_OPERATIONS)[number];

export type FaultAction =
  /** Answer this status with an MSTR error body, without applying the request. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** Destroy the socket without reading or applying the request. */
  | { kind: 'reset-before' }
  /** Apply the request, then destroy the socket without answering. */
  | { kind: 'reset-after' }
  /** Wait, then go on with the next rule or with applying and answering the request. */
  | { kind: 'delay'; ms: number }
  /** End the caller's login just before the request is handled. */
  | { kind: 'expire-login' };

export interface FaultRule {
  operation: FaultOperation;
  /** 1-based number of the operation's first request that is hit. */
  nth: number;
  /** How many consecutive requests from the nth on are hit; Infinity for all. */
  times: number;
  action: FaultAction;
  /** The rule as written, normalised (no spaces). */
  text: string;
}

/** One fault that actually fired, for tests and the request log. */
export interface FiredFault {
  operation: FaultOperation;
  nth: number;
  /** The action as written, e.g. `503`, `429:2`, `reset-after`, `delay:500`. */
  action: string;
  rule: string;
}

export const FAULT_RULE_SYNTAX = '<operation>[#<nth>][*<times>]=<action>';

const FAULT_HINT =
  `A fault rule is ${FAULT_RULE_SYNTAX}, e.g. chunk#2=503, model=reset-after, chunk#3*2=429:5, status*inf=delay:200, chunk#4=expire-login. ` +
  `Operations: ${FAULT_OPERATIONS.join(', ')}. Actions: a status 400-599, <status>:<retry-after seconds>, reset-before, reset-after, delay:<ms>, expire-login.`;

const RULE = /^([a-z-]+)(?:#([0-9]+))?(?:\*([0-9]+|inf))?=(.+)$/;
const MAX_COUNT = 1_000_000_000;
const MAX_DELAY_MS = 24 * 60 * 60 * 1000;

function invalidRule(text: string, reason: string): UsageError {
  return new UsageError(`invalid fault rule ${JSON.stringify(text)}: ${reason}`, { hint: FAULT_HINT });
}

function isOperation(value: string): value is FaultOperation {
  return (FAULT_OPERATIONS as readonly string[]).includes(value);
}

function parseCount(text: string, digits: string, what: string): number {
  const value = Number(digits);
  if (!/^[1-9][0-9]*$/.test(digits) || value > MAX_COUNT) throw invalidRule(text, `${what} must be an integer from 1 to ${MAX_COUNT}, got ${digits}`);
  return value;
}

function parseAction(text: string, operation: FaultOperation, action: string): FaultAction {
  if (action === 'reset-before' || action === 'reset-after') return { kind: action };
  if (action === 'expire-login') {
    // A login request carries no token, so there is nothing to expire.
    if (operation === 'login') throw invalidRule(text, 'expire-login needs an operation that is sent with a login token (not login)');
    return { kind: 'expire-login' };
  }
  const delay = /^delay:([0-9]+)$/.exec(action);
  if (delay?.[1] !== undefined) {
    const ms = Number(delay[1]);
    if (ms > MAX_DELAY_MS) throw invalidRule(text, `delay must be at most ${MAX_DELAY_MS} ms`);
    return { kind: 'delay', ms };
  }
  const status = /^([0-9]{3})(?::([0-9]+))?$/.exec(action);
  if (status?.[1] !== undefined) {
    const code = Number(status[1]);
    if (code < 400 || code > 599) throw invalidRule(text, `status ${status[1]} is not an error status (400-599)`);
    if (status[2] === undefined) return { kind: 'status', status: code };
    const seconds = Number(status[2]);
    if (seconds > 86_400) throw invalidRule(text, 'Retry-After must be at most 86400 seconds');
    return { kind: 'status', status: code, retryAfterSeconds: seconds };
  }
  throw invalidRule(text, `unknown action ${JSON.stringify(action)}`);
}

/** Parses one rule such as `chunk#2*3=503`; anything malformed is a UsageError with an example. */
export function parseFaultRule(input: string): FaultRule {
  const text = input.replace(/\s+/g, '');
  const match = RULE.exec(text);
  if (match === null) {
    throw invalidRule(input, text.includes('=') ? `expected ${FAULT_RULE_SYNTAX}` : `missing "=<action>" (expected ${FAULT_RULE_SYNTAX})`);
  }
  const [, name = '', nthText, timesText, actionText = ''] = match;
  if (!isOperation(name)) throw invalidRule(input, `unknown operation ${JSON.stringify(name)}`);
  const nth = nthText === undefined ? 1 : parseCount(input, nthText, 'nth');
  const times = timesText === undefined ? 1 : timesText === 'inf' ? Number.POSITIVE_INFINITY : parseCount(input, timesText, 'times');
  return { operation: name, nth, times, action: parseAction(input, name, actionText), text };
}

/**
 * Parses every rule, in order. An entry may hold several rules separated by commas, so a list
 * joined into one string (`chunk=503,model=reset-after`) reads the same as separate entries.
 */
export function parseFaultRules(inputs: readonly string[]): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const input of inputs) {
    for (const part of input.split(',')) {
      if (part.trim() === '') throw invalidRule(input, 'empty rule');
      rules.push(parseFaultRule(part));
    }
  }
  return rules;
}

/** The action part of a rule as written. */
export function describeFaultAction(action: FaultAction): string {
  switch (action.kind) {
    case 'status':
      return action.retryAfterSeconds === undefined ? String(action.status) : `${action.status}:${action.retryAfterSeconds}`;
    case 'delay':
      return `delay:${action.ms}`;
    default:
      return action.kind;
  }
}

export interface FaultErrorBody {
  code: MstrErrorCode;
  message: string;
}

// Codes from the vendor's error table (mstr-push-api.md §7); a 401 on login is a failed login,
// elsewhere an expired session. Statuses without a dedicated code fall back to ERR006 / ERR001.
const STATUS_ERRORS: ReadonlyMap<number, FaultErrorBody> = new Map([
  [400, { code: 'ERR006', message: 'Invalid input' }],
  [401, { code: 'ERR009', message: SESSION_EXPIRED_MESSAGE }],
  [403, { code: 'ERR014', message: 'Insufficient privileges' }],
  [404, { code: 'ERR004', message: 'HTTP 404 Not Found' }],
  [409, { code: 'ERR015', message: 'The object already exists' }],
  [413, { code: 'ERR006', message: 'Request entity too large' }],
  [429, { code: 'ERR016', message: 'Too many requests; the service is not available right now' }],
  [500, { code: 'ERR001', message: 'Internal server error' }],
  [502, { code: 'ERR013', message: 'The Intelligence Server is unreachable' }],
  [503, { code: 'ERR016', message: 'Service not available' }],
  [504, { code: 'ERR013', message: 'The Intelligence Server did not answer in time' }],
]);

/** The `{code, message}` an injected status answers with; the message names the rule. */
export function faultErrorBody(status: number, operation: FaultOperation, rule: string): FaultErrorBody {
  const known =
    status === 401 && operation === 'login'
      ? { code: 'ERR003' as const, message: 'Login failed' }
      : (STATUS_ERRORS.get(status) ?? { code: status < 500 ? ('ERR006' as const) : ('ERR001' as const), message: `HTTP ${status}` });
  return { code: known.code, message: `${known.message} (emulator fault ${rule})` };
}

/**
 * Counts requests per operation since the emulator started and picks the rules that hit each one.
 * Rules come back in the order given, because their actions run in that order.
 */
export class FaultPlan {
  private readonly counts = new Map<FaultOperation, number>();
  private readonly fired: FiredFault[] = [];

  constructor(readonly rules: readonly FaultRule[]) {}

  /** Counts one request of `operation`; returns its 1-based number and the rules that hit it. */
  next(operation: FaultOperation): { nth: number; rules: FaultRule[] } {
    const nth = (this.counts.get(operation) ?? 0) + 1;
    this.counts.set(operation, nth);
    const rules = this.rules.filter((r) => r.operation === operation && nth >= r.nth && nth - r.nth < r.times);
    return { nth, rules };
  }

  /** How many requests of `operation` arrived so far. */
  count(operation: FaultOperation): number {
    return this.counts.get(operation) ?? 0;
  }

  /** Notes that a rule's action was carried out on the nth request. */
  record(rule: FaultRule, nth: number): FiredFault {
    const entry: FiredFault = { operation: rule.operation, nth, action: describeFaultAction(rule.action), rule: rule.text };
    this.fired.push(entry);
    return entry;
  }

  /** Every fault carried out so far, oldest first. */
  get log(): readonly FiredFault[] {
    return this.fired;
  }
}
