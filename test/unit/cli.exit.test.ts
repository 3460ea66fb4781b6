import { describe, expect, it } from '@jest/globals';
import {
  AuthError,
  ConfigError,
  InputError,
  InternalError,
  InterruptedError,
  PartialUploadError,
  RemoteError,
  UsageError,
} from '../../src/errors.js';
import type { MstrPushError } from '../../src/errors.js';
import { reportError } from '../../src/cli/exit.js';

const plain = { debug: false, redact: (text: string) => text };
const hasStack = (lines: readonly string[]) => lines.some((line) => /\n\s+at /.test(line) || /^\s+at /m.test(line));

describe('reportError', () => {
  const cases: Array<[string, MstrPushError, number]> = [
    ['UsageError', new UsageError('unknown option --foo'), 2],
    ['ConfigError', new ConfigError('bad config'), 3],
    ['InputError', new InputError('INPUT_PARSE', 'unclosed quote', { location: { file: 'a.csv', line: 7 } }), 4],
    ['AuthError', new AuthError('login failed'), 5],
    ['RemoteError', new RemoteError('HTTP_STATUS', 'server said no'), 6],
    ['PartialUploadError', new PartialUploadError('not published', { code: 'PUBLISH_FAILED' }), 7],
    ['InterruptedError', new InterruptedError(), 130],
  ];

  it.each(cases)('exits with the code of its class for %s and prints one error line without a stack', (_name, error, exitCode) => {
    const report = reportError(error, plain);
    expect(report.exitCode).toBe(exitCode);
    expect(report.lines).toEqual([`mstrpush: error: ${error.message}`]);
  });

  it('prints the location prefix of an input error', () => {
    const report = reportError(new InputError('INPUT_PARSE', 'unclosed quote', { location: { file: 'a.csv', line: 7 } }), plain);
    expect(report.lines[0]).toBe('mstrpush: error: a.csv:7: unclosed quote');
  });

  it('adds a hint line after the error line', () => {
    const report = reportError(new AuthError('login as "bob" failed', { hint: 'check the password' }), plain);
    expect(report).toEqual({
      exitCode: 5,
      lines: ['mstrpush: error: login as "bob" failed', 'mstrpush: hint: check the password'],
    });
  });

  it('adds the stack and its causes with --debug', () => {
    const cause = new Error('socket hang up');
    const report = reportError(new RemoteError('HTTP_NETWORK', 'POST /x failed', { cause, hint: 'retry' }), { ...plain, debug: true });
    expect(report.exitCode).toBe(6);
    expect(report.lines).toHaveLength(3);
    expect(report.lines.slice(0, 2)).toEqual(['mstrpush: error: POST /x failed', 'mstrpush: hint: retry']);
    expect(report.lines[2]).toContain('RemoteError: POST /x failed');
    expect(report.lines[2]).toContain('caused by: Error: socket hang up');
    expect(hasStack(report.lines)).toBe(true);
  });

  it('prints the stack of an InternalError even without --debug', () => {
    const report = reportError(new InternalError('chunk index went backwards'), plain);
    expect(report.exitCode).toBe(1);
    expect(report.lines[0]).toBe('mstrpush: error: chunk index went backwards');
    expect(hasStack(report.lines)).toBe(true);
  });

  it('treats an error that is not ours as a bug: exit 1, the stack and a note to report it', () => {
    const report = reportError(new TypeError("Cannot read properties of undefined (reading 'x')"), plain);
    expect(report.exitCode).toBe(1);
    expect(report.lines[0]).toBe("mstrpush: internal error: Cannot read properties of undefined (reading 'x')");
    expect(hasStack(report.lines)).toBe(true);
    expect(report.lines.at(-1)).toMatch(/this is a bug in mstrpush; please report it/);
  });

  it('reports thrown non-Error values as bugs too', () => {
    const report = reportError('just a string', plain);
    expect(report.exitCode).toBe(1);
    expect(report.lines).toEqual([
      'mstrpush: internal error: just a string',
      'just a string',
      expect.stringContaining('this is a bug in mstrpush'),
    ]);
  });

  it('redacts the message, the hint and the stack', () => {
    const redact = (text: string) => text.split('hunter22').join('***');
    const expected = reportError(new AuthError('password hunter22 rejected', { hint: 'not hunter22' }), { debug: true, redact });
    expect(expected.lines.join('\n')).not.toContain('hunter22');
    expect(expected.lines[0]).toBe('mstrpush: error: password *** rejected');
    expect(expected.lines[1]).toBe('mstrpush: hint: not ***');
    const bug = reportError(new Error('bad hunter22', { cause: new Error('deeper hunter22') }), { debug: false, redact });
    expect(bug.lines.join('\n')).not.toContain('hunter22');
    expect(bug.lines.join('\n')).toContain('caused by: Error: deeper ***');
  });
});
