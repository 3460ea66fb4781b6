import { describe, expect, it } from '@jest/globals';
import { emulatorOptions } from '../../src/cli/commands/emulator.js';
import { PowerBiFaultPlan, parsePowerBiFaultRule, parsePowerBiFaultRules, powerBiFaultBody } from '../../src/emulator/powerbi/faults.js';
import { describeSwitches, resolveOptions } from '../../src/emulator/powerbi/options.js';

function parseError(rule: string): { code: string; message: string; hint: string } {
  try {
    parsePowerBiFaultRule(rule);
  } catch (error) {
    return error as { code: string; message: string; hint: string };
  }
  throw new Error(`expected ${rule} to be refused`);
}

describe('parsePowerBiFaultRule', () => {
  it('reads the Power BI operations with nth, times and each action', () => {
    expect(parsePowerBiFaultRule('rows#2*3=429:5')).toEqual({
      operation: 'rows',
      nth: 2,
      times: 3,
      action: { kind: 'status', status: 429, retryAfterSeconds: 5 },
      text: 'rows#2*3=429:5',
    });
    expect(parsePowerBiFaultRule('create=reset-after').action).toEqual({ kind: 'reset-after' });
    expect(parsePowerBiFaultRule('delete-rows=reset-before').action).toEqual({ kind: 'reset-before' });
    expect(parsePowerBiFaultRule('rows#4=expire-token').action).toEqual({ kind: 'expire-token' });
    expect(parsePowerBiFaultRule('token*inf=delay:20')).toMatchObject({ operation: 'token', times: Number.POSITIVE_INFINITY, action: { kind: 'delay', ms: 20 } });
  });

  it('accepts every operation the emulator counts', () => {
    const operations = ['token', 'groups', 'datasets', 'create', 'dataset', 'delete-dataset', 'tables', 'put-table', 'rows', 'delete-rows'];
    expect(operations.map((op) => parsePowerBiFaultRule(`${op}=503`).operation)).toEqual(operations);
  });

  it.each([
    ['chunk=503', /unknown operation "chunk"/],
    ['rows=expire-login', /unknown action "expire-login"/],
    ['token=expire-token', /expire-token needs an operation that is sent with a login token \(not token\)/],
    ['rows#0=503', /nth must be an integer from 1/],
    ['rows=302', /status 302 is not an error status/],
  ])('refuses %j with a usage error that shows Power BI examples', (rule, reason) => {
    const error = parseError(rule);
    expect(error).toMatchObject({ code: 'USAGE' });
    expect(error.message).toMatch(reason);
    expect(error.hint).toContain('e.g. rows#2=503, create=reset-after');
  });

  it('splits comma-separated entries and keeps their order', () => {
    expect(parsePowerBiFaultRules(['rows#2=delay:10,rows#2=503', 'create=429:1']).map((r) => r.text)).toEqual(['rows#2=delay:10', 'rows#2=503', 'create=429:1']);
  });
});

describe('powerBiFaultBody', () => {
  it('answers in the shapes the service uses: wrapped errors, a bare throttling message, Entra errors for tokens', () => {
    expect(powerBiFaultBody(503, 'rows', 'rows=503')).toEqual({ error: { code: 'ServiceUnavailable', message: 'The service is not available (emulator fault rows=503)' } });
    expect(powerBiFaultBody(500, 'create', 'create=500')).toEqual({ error: { code: 'InternalServerError', message: 'An error has occurred (emulator fault create=500)' } });
    expect(powerBiFaultBody(429, 'rows', 'r')).toEqual({ message: expect.stringContaining('You have exceeded the amount of requests allowed') });
    expect(powerBiFaultBody(503, 'token', 'token=503')).toMatchObject({ error: 'temporarily_unavailable', error_codes: [50000] });
    expect(powerBiFaultBody(418, 'tables', 't')).toEqual({ error: { code: 'BadRequest', message: 'HTTP 418 (emulator fault t)' } });
  });
});

describe('PowerBiFaultPlan', () => {
  it('hits requests nth to nth+times-1 of their own operation only', () => {
    const plan = new PowerBiFaultPlan(parsePowerBiFaultRules(['rows#2*2=503']));
    const hits = [plan.next('rows'), plan.next('create'), plan.next('rows'), plan.next('rows'), plan.next('rows')].map((h) => h.rules.length);
    expect(hits).toEqual([0, 0, 1, 1, 0]);
    expect(plan.count('rows')).toBe(4);
  });
});

describe('the --fail switch', () => {
  it('is a repeatable string that the emulator command turns into rules', () => {
    const fail = describeSwitches().find((s) => s.name === 'faults');
    expect(fail).toMatchObject({ flag: 'fail', kind: 'string', repeatable: true, default: '(none)' });
    const options = emulatorOptions({ fail: ['rows#2=503', 'create=reset-after'] }, describeSwitches());
    expect(resolveOptions(options).faults.map((r) => r.text)).toEqual(['rows#2=503', 'create=reset-after']);
    expect(resolveOptions({}).faults).toEqual([]);
  });
});
