// The one place where an error becomes what the user sees and the exit code the shell gets.

import { EXIT_CODES, isMstrPushError } from '../errors.js';
import type { ExitCode } from '../errors.js';

export interface ErrorReport {
  exitCode: ExitCode;
  /** Lines for stderr, already formatted. */
  lines: string[];
}

/**
 * Expected failures print one line saying what failed (with file:line or the server's code and
 * ticket) and, when there is one, a line saying what to do. Stack traces only with --debug, or
 * for errors that are bugs.
 */
export function reportError(error: unknown, options: { debug: boolean; redact: (text: string) => string }): ErrorReport {
  const { redact } = options;
  if (isMstrPushError(error)) {
    const lines = [`mstrpush: error: ${redact(error.message)}`];
    if (error.hint) lines.push(`mstrpush: hint: ${redact(error.hint)}`);
    if (options.debug || error.code === 'INTERNAL') lines.push(redact(stackOf(error)));
    return { exitCode: error.exitCode, lines };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    exitCode: EXIT_CODES.internal,
    lines: [
      `mstrpush: internal error: ${redact(message)}`,
      redact(stackOf(error)),
      'mstrpush: this is a bug in mstrpush; please report it with the command line (without secrets) and the output above',
    ],
  };
}

function stackOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let text = error.stack ?? error.message;
  let cause = (error as { cause?: unknown }).cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    text += `\ncaused by: ${cause.stack ?? cause.message}`;
    cause = (cause as { cause?: unknown }).cause;
  }
  return text;
}
