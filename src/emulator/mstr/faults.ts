// Fault rules for the MicroStrategy emulator (`--fail chunk#2=503`): its operations and the error
// bodies injected statuses carry, on top of the rule language both emulators share (../faults.ts).
// Pure: the server does the waiting, resetting and answering.

import { FAULT_RULE_SYNTAX, FaultPlan as SharedFaultPlan, createFaultLanguage, describeFaultAction } from '../faults.js';
import type { FaultAction as SharedFaultAction, FaultRule as SharedFaultRule, FiredFault as SharedFiredFault } from '../faults.js';
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

export type FaultAction = SharedFaultAction<'expire-login'>;

export type FaultRule = SharedFaultRule<FaultOperation, 'expire-login'>;

/** One fault that actually fired, for tests and the request log. */
export type FiredFault = SharedFiredFault<FaultOperation>;

export { FAULT_RULE_SYNTAX, describeFaultAction };

const language = createFaultLanguage({
  operations: FAULT_OPERATIONS,
  expireAction: 'expire-login',
  withoutToken: ['login'],
  examples: 'chunk#2=503, model=reset-after, chunk#3*2=429:5, status*inf=delay:200, chunk#4=expire-login',
});

/** Parses one rule such as `chunk#2*3=503`; anything malformed is a UsageError with an example. */
export const parseFaultRule: (input: string) => FaultRule = language.parseFaultRule;

/**
 * Parses every rule, in order. An entry may hold several rules separated by commas, so a list
 * joined into one string (`chunk=503,model=reset-after`) reads the same as separate entries.
 */
export const parseFaultRules: (inputs: readonly string[]) => FaultRule[] = language.parseFaultRules;

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
export class FaultPlan extends SharedFaultPlan<FaultOperation, 'expire-login'> {}
