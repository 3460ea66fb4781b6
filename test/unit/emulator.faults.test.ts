import { FaultPlan, describeFaultAction, faultErrorBody, parseFaultRule, parseFaultRules } from '../../src/emulator/mstr/faults.js';
import { describeSwitches, resolveOptions } from '../../src/emulator/mstr/options.js';

function parseError(rule: string): unknown {
  try {
    parseFaultRule(rule);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${rule} to be refused`);
}

describe('parseFaultRule', () => {
  it('hits the first request once when nth and times are left out', () => {
    expect(parseFaultRule('chunk=503')).toEqual({ operation: 'chunk', nth: 1, times: 1, action: { kind: 'status', status: 503 }, text: 'chunk=503' });
  });

  it('reads nth, times and a Retry-After delay', () => {
    expect(parseFaultRule('chunk#2*3=429:5')).toEqual({
      operation: 'chunk',
      nth: 2,
      times: 3,
      action: { kind: 'status', status: 429, retryAfterSeconds: 5 },
      text: 'chunk#2*3=429:5',
    });
  });

  it('reads *inf as every request from the nth on', () => {
    expect(parseFaultRule('status#4*inf=delay:250')).toMatchObject({ operation: 'status', nth: 4, times: Number.POSITIVE_INFINITY, action: { kind: 'delay', ms: 250 } });
  });

  it.each([
    ['model=reset-before', { kind: 'reset-before' }],
    ['model=reset-after', { kind: 'reset-after' }],
    ['chunk#3=expire-login', { kind: 'expire-login' }],
    ['publish=500', { kind: 'status', status: 500 }],
    ['folder=delay:0', { kind: 'delay', ms: 0 }],
  ])('parses the action of %s', (rule, action) => {
    expect(parseFaultRule(rule).action).toEqual(action);
  });

  it('ignores whitespace around the parts', () => {
    expect(parseFaultRule(' chunk #2 = 503 ')).toMatchObject({ operation: 'chunk', nth: 2, text: 'chunk#2=503' });
  });

  it('accepts every operation the emulator counts', () => {
    const operations = ['login', 'logout', 'projects', 'sessions', 'folder', 'model', 'dataset', 'session', 'chunk', 'publish', 'status', 'cancel'];
    expect(operations.map((op) => parseFaultRule(`${op}=503`).operation)).toEqual(operations);
  });

  it.each([
    ['chunk', /missing "=<action>"/],
    ['', /missing "=<action>"/],
    ['chunk=', /expected <operation>\[#<nth>\]\[\*<times>\]=<action>/],
    ['upload=503', /unknown operation "upload"/],
    ['Chunk=503', /expected <operation>/],
    ['chunk#0=503', /nth must be an integer from 1/],
    ['chunk#02=503', /nth must be an integer from 1/],
    ['chunk*0=503', /times must be an integer from 1/],
    ['chunk#x=503', /expected <operation>/],
    ['chunk*all=503', /expected <operation>/],
    ['chunk=200', /status 200 is not an error status/],
    ['chunk=600', /status 600 is not an error status/],
    ['chunk=50', /unknown action "50"/],
    ['chunk=reset', /unknown action "reset"/],
    ['chunk=delay:', /unknown action "delay:"/],
    ['chunk=delay:-1', /unknown action "delay:-1"/],
    ['chunk=delay:99999999999', /delay must be at most/],
    ['chunk=429:x', /unknown action "429:x"/],
    ['chunk=429:100000', /Retry-After must be at most 86400/],
    ['login=expire-login', /expire-login needs an operation that is sent with a login token/],
  ])('refuses %j with a usage error that shows an example', (rule, reason) => {
    const error = parseError(rule);
    expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
    const { message, hint } = error as { message: string; hint: string };
    expect(message).toContain(`invalid fault rule ${JSON.stringify(rule)}`);
    expect(message).toMatch(reason);
    expect(hint).toContain('e.g. chunk#2=503, model=reset-after');
  });
});

describe('parseFaultRules', () => {
  it('keeps the order given and splits comma-separated entries', () => {
    const rules = parseFaultRules(['chunk#2=delay:100,chunk#2=503', 'model=reset-after']);
    expect(rules.map((r) => r.text)).toEqual(['chunk#2=delay:100', 'chunk#2=503', 'model=reset-after']);
  });

  it('refuses an empty entry between commas', () => {
    expect(() => parseFaultRules(['chunk=503,'])).toThrow(/empty rule/);
  });
});

describe('describeFaultAction', () => {
  it.each(['503', '429:7', 'reset-before', 'reset-after', 'delay:1500', 'expire-login'])('writes %s back as it was given', (action) => {
    expect(describeFaultAction(parseFaultRule(`chunk=${action}`).action)).toBe(action);
  });
});

describe('faultErrorBody', () => {
  it.each([
    [503, 'chunk', 'ERR016', 'Service not available'],
    [429, 'model', 'ERR016', 'Too many requests; the service is not available right now'],
    [500, 'publish', 'ERR001', 'Internal server error'],
    [401, 'chunk', 'ERR009', "The user's session has expired, please reauthenticate"],
    [401, 'login', 'ERR003', 'Login failed'],
    [404, 'dataset', 'ERR004', 'HTTP 404 Not Found'],
    [418, 'chunk', 'ERR006', 'HTTP 418'],
    [599, 'chunk', 'ERR001', 'HTTP 599'],
  ] as const)('answers %i on %s with %s', (status, operation, code, message) => {
    expect(faultErrorBody(status, operation, 'x=1')).toEqual({ code, message: `${message} (emulator fault x=1)` });
  });
});

describe('FaultPlan', () => {
  it('numbers each operation separately from 1', () => {
    const plan = new FaultPlan([]);
    expect([plan.next('chunk').nth, plan.next('model').nth, plan.next('chunk').nth, plan.next('chunk').nth]).toEqual([1, 1, 2, 3]);
    expect(plan.count('chunk')).toBe(3);
    expect(plan.count('publish')).toBe(0);
  });

  it('hits requests nth to nth+times-1 and no others', () => {
    const plan = new FaultPlan(parseFaultRules(['chunk#2*3=503']));
    const hits = Array.from({ length: 6 }, () => plan.next('chunk').rules.length);
    expect(hits).toEqual([0, 1, 1, 1, 0, 0]);
  });

  it('hits every request from the nth on with *inf', () => {
    const plan = new FaultPlan(parseFaultRules(['status#3*inf=503']));
    const hits = Array.from({ length: 50 }, () => plan.next('status').rules.length);
    expect(hits.slice(0, 2)).toEqual([0, 0]);
    expect(hits.slice(2).every((n) => n === 1)).toBe(true);
  });

  it('returns all matching rules in the order given, and only for their operation', () => {
    const plan = new FaultPlan(parseFaultRules(['chunk=delay:10', 'model=503', 'chunk*2=500']));
    expect(plan.next('chunk').rules.map((r) => r.text)).toEqual(['chunk=delay:10', 'chunk*2=500']);
    expect(plan.next('chunk').rules.map((r) => r.text)).toEqual(['chunk*2=500']);
    expect(plan.next('model').rules.map((r) => r.text)).toEqual(['model=503']);
  });

  it('logs the faults recorded, oldest first', () => {
    const plan = new FaultPlan(parseFaultRules(['chunk#2=429:3']));
    plan.next('chunk');
    const { nth, rules } = plan.next('chunk');
    for (const rule of rules) plan.record(rule, nth);
    expect(plan.log).toEqual([{ operation: 'chunk', nth: 2, action: '429:3', rule: 'chunk#2=429:3' }]);
  });
});

describe('emulator options: faults', () => {
  it('parses the rules into the resolved options and defaults to none', () => {
    expect(resolveOptions({}).faults).toEqual([]);
    expect(resolveOptions({ faults: ['chunk#2=503', 'model=reset-after'] }).faults.map((r) => r.text)).toEqual(['chunk#2=503', 'model=reset-after']);
  });

  it('takes a single string as one entry', () => {
    const faults = 'publish=500,status*inf=delay:5' as unknown as string[];
    expect(resolveOptions({ faults }).faults.map((r) => r.operation)).toEqual(['publish', 'status']);
  });

  it('refuses an invalid rule with a usage error', () => {
    expect(() => resolveOptions({ faults: ['chunk#0=503'] })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('describes the fail switch as a repeatable string', () => {
    expect(describeSwitches().find((s) => s.name === 'faults')).toMatchObject({ flag: 'fail', kind: 'string', repeatable: true, default: '(none)' });
    expect(describeSwitches().filter((s) => s.repeatable === true).map((s) => s.flag)).toEqual(['fail']);
  });
});
