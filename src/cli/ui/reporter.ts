// The Reporter: the only way commands and the pipeline show progress. Everything it writes goes to
// the stream it is given (stderr), never stdout, which carries only the command's result.

import { LINE_TAG } from './progress-format.js';
import { createPlainReporter } from './plain-reporter.js';

/** `tty`: animated bars and spinners; `plain`: occasional status lines; `silent`: warnings only. */
export type ReporterMode = 'tty' | 'plain' | 'silent';

/** One determinate pass over a table's input file. */
export interface TableStart {
  table: string;
  file: string;
  /** File size; undefined when it cannot be known (stdin), which drops the percentage and ETA. */
  totalBytes: number | undefined;
  pass: 'scan' | 'upload';
}

/** Cumulative counters for the current table pass (not deltas). */
export interface TableProgress {
  bytesRead: number;
  rows: number;
  chunksSent: number;
  bytesSent: number;
}

export interface Reporter {
  /**
   * Indeterminate step (login, create model, publish + wait). tty: ora spinner with the text
   * (a second `step` while one runs only changes the text); plain: one line per call; silent: nothing.
   */
  step(text: string): void;
  /** Ends the current step; `ok=false` marks it failed (tty: spinner fail symbol). */
  stepDone(text?: string, ok?: boolean): void;
  /** Starts a determinate pass over one table's file, ending any pass still open. tty: a new bar; plain: one line. */
  startTable(start: TableStart): void;
  /** Cheap enough to call for every batch: tty redraws on its own timer, plain prints at most one line per interval. */
  progress(update: TableProgress): void;
  /** plain: one closing line per table; tty: completes the bar. */
  endTable(final: TableProgress): void;
  /** Shown in every mode, including quiet and after close(); drawn above any bar without corrupting it. */
  warn(line: string): void;
  /** Informational line; not shown in silent mode. */
  info(line: string): void;
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
