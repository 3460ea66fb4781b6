// The Reporter: the only way commands and the pipeline show progress. Everything it writes goes to
// the stream it is given (stderr), never stdout, which carries only the command's result.

import type { ProgressSink } from '../../pipeline/progress.js';
import { LINE_TAG } from './progress-format.js';
import { createPlainReporter } from './plain-reporter.js';

/** `tty`: animated bars and spinners; `plain`: occasional status lines; `silent`: warnings only. */
export type ReporterMode = 'tty' | 'plain' | 'silent';

export type { TableProgress, TableStart } from '../../pipeline/progress.js';

/**
 * The pipeline's ProgressSink plus a way to stop. Per mode: `step` is an ora spinner (tty), one
 * line per call (plain) or nothing (silent); `progress` is cheap enough for every batch (tty
 * redraws on its own timer, plain prints at most one line per interval); `warn` shows in every
 * mode, drawn above any bar; `info` is not shown in silent mode.
 */
export interface Reporter extends ProgressSink {
  /** Stops timers and animations and shows the cursor again; idempotent. tty: a spinner still running is marked failed. */
  close(): void;
}

/** Anything writable that may be a terminal; `process.stderr` in the CLI. */
export type ReporterStream = NodeJS.WritableStream & { isTTY?: boolean | undefined; columns?: number | undefined };

export interface CreateReporterOptions {
  mode: ReporterMode;
  stream: ReporterStream;
  /** Clock for throttling and rates; injectable so tests are deterministic. */
  now?: () => number;
  /** Minimum gap between plain-mode progress lines (default 5000). */
  plainIntervalMs?: number;
}

export interface ReporterModeInput {
  isTTY: boolean;
  quiet: boolean;
  json: boolean;
  ci: boolean;
  verbose: boolean;
}

/**
 * Picks the reporter for a run: `silent` with --quiet; `tty` only on a terminal without --json,
 * --verbose or CI; otherwise `plain`. --json turns animation off even though the JSON goes to
 * stdout: whoever asks for JSON is usually a script capturing both streams, and it keeps
 * `--json` runs from loading the animation libraries at all.
 */
export function chooseReporterMode(o: ReporterModeInput): ReporterMode {
  if (o.quiet) return 'silent';
  if (o.isTTY && !o.json && !o.ci && !o.verbose) return 'tty';
  return 'plain';
}

/** A reporter that prints nothing but warnings (for --quiet). */
export function createSilentReporter(stream: ReporterStream): Reporter {
  const noop = (): void => {};
  return {
    step: noop,
    stepDone: noop,
    startTable: noop,
    progress: noop,
    endTable: noop,
    info: noop,
    close: noop,
    warn(line) {
      stream.write(`${LINE_TAG}${line}\n`);
    },
  };
}

/**
 * Builds the reporter for `mode`. tty mode resolves asynchronously because it loads cli-progress
 * and ora on demand, so plain and silent runs never load them.
 */
export function createReporter(o: CreateReporterOptions & { mode: 'plain' | 'silent' }): Reporter;
export function createReporter(o: CreateReporterOptions): Promise<Reporter> | Reporter;
export function createReporter(o: CreateReporterOptions): Promise<Reporter> | Reporter {
  const now = o.now ?? Date.now;
  switch (o.mode) {
    case 'silent':
      return createSilentReporter(o.stream);
    case 'plain':
      return createPlainReporter({ stream: o.stream, now, intervalMs: o.plainIntervalMs ?? 5000 });
    case 'tty':
      return import('./tty-reporter.js').then((m) => m.createTtyReporter({ stream: o.stream, now }));
  }
}
