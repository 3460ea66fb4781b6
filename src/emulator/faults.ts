// The `--fail` rule language both emulators share (`rows#2=503`, `model=reset-after`): parsing,
// the per-operation request counter that decides which rules hit, and the log of faults that
// fired. Pure: each emulator does the waiting, resetting and answering, with its own error bodies.

import { UsageError } from '../errors.js';

export type FaultAction<Expire extends string = string> =
  /** Answer this status with the emulator's error body, without applying the request. */
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** Destroy the socket without reading or applying the request. */
  | { kind: 'reset-before' }
  /** Apply the request, then destroy the socket without answering. */
  | { kind: 'reset-after' }
  /** Wait, then go on with the next rule or with applying and answering the request. */
  | { kind: 'delay'; ms: number }
  /** End the caller's login (token) just before the request is handled. */
  | { kind: Expire };

export interface FaultRule<Operation extends string = string, Expire extends string = string> {
  operation: Operation;
  /** 1-based number of the operation's first request that is hit. */
  nth: number;
  /** How many consecutive requests from the nth on are hit; Infinity for all. */
  times: number;
  action: FaultAction<Expire>;
  /** The rule as written, normalised (no spaces). */
  text: string;
}

/** One fault that actually fired, for tests and the request log. */
export interface FiredFault<Operation extends string = string> {
  operation: Operation;
  nth: number;
  /** The action as written, e.g. `503`, `429:2`, `reset-after`, `delay:500`. */
  action: string;
  rule: string;
}

export const FAULT_RULE_SYNTAX = '<operation>[#<nth>][*<times>]=<action>';

/** What makes one emulator's dialect of the rule language. */
export interface FaultDialect<Operation extends string, Expire extends string> {
  operations: readonly Operation[];
  /** The action that ends the caller's login, e.g. `expire-login`. */
  expireAction: Expire;
  /** Operations sent without a login token, where the expire action makes no sense. */
  withoutToken: readonly Operation[];
  /** Shown in every refusal, e.g. `chunk#2=503, model=reset-after, ...`. */
  examples: string;
}

export interface FaultLanguage<Operation extends string, Expire extends string> {
  /** Parses one rule such as `chunk#2*3=503`; anything malformed is a UsageError with an example. */
  parseFaultRule(input: string): FaultRule<Operation, Expire>;
  /**
   * Parses every rule, in order. An entry may hold several rules separated by commas, so a list
   * joined into one string (`chunk=503,model=reset-after`) reads the same as separate entries.
   */
  parseFaultRules(inputs: readonly string[]): Array<FaultRule<Operation, Expire>>;
}

const RULE = /^([a-z-]+)(?:#([0-9]+))?(?:\*([0-9]+|inf))?=(.+)$/;
const MAX_COUNT = 1_000_000_000;
const MAX_DELAY_MS = 24 * 60 * 60 * 1000;

export function createFaultLanguage<Operation extends string, Expire extends string>(
  dialect: FaultDialect<Operation, Expire>,
): FaultLanguage<Operation, Expire> {
  const hint =
    `A fault rule is ${FAULT_RULE_SYNTAX}, e.g. ${dialect.examples}. ` +
    `Operations: ${dialect.operations.join(', ')}. Actions: a status 400-599, <status>:<retry-after seconds>, reset-before, reset-after, delay:<ms>, ${dialect.expireAction}.`;
  const invalidRule = (text: string, reason: string) => new UsageError(`invalid fault rule ${JSON.stringify(text)}: ${reason}`, { hint });
  const isOperation = (value: string): value is Operation => (dialect.operations as readonly string[]).includes(value);

  const parseCount = (text: string, digits: string, what: string): number => {
    const value = Number(digits);
    if (!/^[1-9][0-9]*$/.test(digits) || value > MAX_COUNT) throw invalidRule(text, `${what} must be an integer from 1 to ${MAX_COUNT}, got ${digits}`);
    return value;
  };

  const parseAction = (text: string, operation: Operation, action: string): FaultAction<Expire> => {
    if (action === 'reset-before') return { kind: 'reset-before' };
    if (action === 'reset-after') return { kind: 'reset-after' };
    if (action === dialect.expireAction) {
      // A request sent without a token has nothing to expire.
      if (dialect.withoutToken.includes(operation)) {
        throw invalidRule(text, `${dialect.expireAction} needs an operation that is sent with a login token (not ${dialect.withoutToken.join(', ')})`);
      }
      return { kind: dialect.expireAction };
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
  };

  const parseFaultRule = (input: string): FaultRule<Operation, Expire> => {
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
  };

  const parseFaultRules = (inputs: readonly string[]): Array<FaultRule<Operation, Expire>> => {
    const rules: Array<FaultRule<Operation, Expire>> = [];
    for (const input of inputs) {
      for (const part of input.split(',')) {
        if (part.trim() === '') throw invalidRule(input, 'empty rule');
        rules.push(parseFaultRule(part));
      }
    }
    return rules;
  };

  return { parseFaultRule, parseFaultRules };
}

/** The action part of a rule as written. */
export function describeFaultAction(action: FaultAction): string {
  switch (action.kind) {
    case 'status': {
      const status = action as Extract<FaultAction, { kind: 'status' }>;
      return status.retryAfterSeconds === undefined ? String(status.status) : `${status.status}:${status.retryAfterSeconds}`;
    }
    case 'delay':
      return `delay:${(action as Extract<FaultAction, { kind: 'delay' }>).ms}`;
    default:
      return action.kind;
  }
}

/** `--fail` as given to an emulator: a list of entries, or (from a config) one string. */
export function faultTexts(value: readonly string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

/**
 * Counts requests per operation since the emulator started and picks the rules that hit each one.
 * Rules come back in the order given, because their actions run in that order.
 */
export class FaultPlan<Operation extends string = string, Expire extends string = string> {
  private readonly counts = new Map<Operation, number>();
  private readonly fired: Array<FiredFault<Operation>> = [];

  constructor(readonly rules: ReadonlyArray<FaultRule<Operation, Expire>>) {}

  /** Counts one request of `operation`; returns its 1-based number and the rules that hit it. */
  next(operation: Operation): { nth: number; rules: Array<FaultRule<Operation, Expire>> } {
    const nth = (this.counts.get(operation) ?? 0) + 1;
    this.counts.set(operation, nth);
    const rules = this.rules.filter((r) => r.operation === operation && nth >= r.nth && nth - r.nth < r.times);
    return { nth, rules };
  }

  /** How many requests of `operation` arrived so far. */
  count(operation: Operation): number {
    return this.counts.get(operation) ?? 0;
  }

  /** Notes that a rule's action was carried out on the nth request. */
  record(rule: FaultRule<Operation, Expire>, nth: number): FiredFault<Operation> {
    const entry: FiredFault<Operation> = { operation: rule.operation, nth, action: describeFaultAction(rule.action), rule: rule.text };
    this.fired.push(entry);
    return entry;
  }

  /** Every fault carried out so far, oldest first. */
  get log(): ReadonlyArray<FiredFault<Operation>> {
    return this.fired;
  }
}
