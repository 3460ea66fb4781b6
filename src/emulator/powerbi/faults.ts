// Fault rules for the Power BI emulator (`--fail rows#2=503`): its operations and the bodies an
// injected status answers with, in the shapes the service uses (powerbi-push-api.md §5.1), on top
// of the rule language both emulators share. Pure: the server does the waiting and resetting.

import { FAULT_RULE_SYNTAX, FaultPlan, createFaultLanguage } from '../faults.js';
import type { FaultAction, FaultRule, FiredFault } from '../faults.js';

/** The calls a rule can target, one per route and method. */
export const POWERBI_FAULT_OPERATIONS = [
  'token',
  'groups',
  'datasets',
  'create',
  'dataset',
  'delete-dataset',
  'tables',
  'put-table',
  'rows',
  'delete-rows',
] as const;

export type PowerBiFaultOperation = (typeof POWERBI_FAULT_OPERATIONS)[number];

export type PowerBiFaultAction = FaultAction<'expire-token'>;
export type PowerBiFaultRule = FaultRule<PowerBiFaultOperation, 'expire-token'>;
export type PowerBiFiredFault = FiredFault<PowerBiFaultOperation>;

export const POWERBI_FAULT_EXAMPLES = 'rows#2=503, create=reset-after, rows#3*2=429:5, rows*inf=delay:200, rows#4=expire-token';

const language = createFaultLanguage({
  operations: POWERBI_FAULT_OPERATIONS,
  expireAction: 'expire-token',
  withoutToken: ['token'],
  examples: POWERBI_FAULT_EXAMPLES,
});

/** Parses one rule such as `rows#2*3=503`; anything malformed is a UsageError with an example. */
export const parsePowerBiFaultRule: (input: string) => PowerBiFaultRule = language.parseFaultRule;

/** Parses every rule, in order; an entry may hold several rules separated by commas. */
export const parsePowerBiFaultRules: (inputs: readonly string[]) => PowerBiFaultRule[] = language.parseFaultRules;

export class PowerBiFaultPlan extends FaultPlan<PowerBiFaultOperation, 'expire-token'> {}

export { FAULT_RULE_SYNTAX };

const API_ERRORS: ReadonlyMap<number, { code: string; message: string }> = new Map([
  [400, { code: 'BadRequest', message: 'Bad Request' }],
  [401, { code: 'Unauthorized', message: 'The access token is missing or not valid' }],
  [403, { code: 'Forbidden', message: 'The caller is not allowed to do this' }],
  [404, { code: 'ItemNotFound', message: 'The item was not found' }],
  [408, { code: 'RequestTimeout', message: 'The request timed out' }],
  [413, { code: 'RequestEntityTooLarge', message: 'The request is too large' }],
  // troubleshoot-rest-api.md: a generic failure is 500 "An error has occurred".
  [500, { code: 'InternalServerError', message: 'An error has occurred' }],
  [502, { code: 'BadGateway', message: 'The gateway got no valid answer' }],
  [503, { code: 'ServiceUnavailable', message: 'The service is not available' }],
  [504, { code: 'GatewayTimeout', message: 'The gateway timed out' }],
]);

/**
 * The JSON body an injected status answers with; its message names the rule. Throttling has the
 * unwrapped `{"message"}` form, the token endpoint the Entra `{"error","error_description"}` form.
 */
export function powerBiFaultBody(status: number, operation: PowerBiFaultOperation, rule: string): object {
  const tag = `(emulator fault ${rule})`;
  if (status === 429) {
    return { message: `You have exceeded the amount of requests allowed in the current time frame and further requests will fail. ${tag}` };
  }
  if (operation === 'token') {
    const error = status >= 500 ? 'temporarily_unavailable' : 'invalid_request';
    return { error, error_description: `AADSTS50000: There was an error issuing a token. ${tag}`, error_codes: [50000] };
  }
  const known = API_ERRORS.get(status) ?? { code: status < 500 ? 'BadRequest' : 'InternalServerError', message: `HTTP ${status}` };
  return { error: { code: known.code, message: `${known.message} ${tag}` } };
}
