// Interactive reporter: a cli-progress bar per table pass and an ora spinner for indeterminate
// steps, never both at once. Loaded on demand so non-interactive runs never import either library.

import * as readline from 'node:readline';
import cliProgress from 'cli-progress';
import ora from 'ora';
import type { Ora } from 'ora';
import { LINE_TAG, TableTracker, formatBytes, formatBytesOf, formatCount, formatDuration, countOf } from './progress-format.js';
import type { TableFigures } from './progress-format.js';
import type { Reporter, ReporterStream } from './reporter.js';

export interface TtyReporterOptions {
  stream: ReporterStream;
  now: () => number;
}

// cli-progress redraws on its own timer; 8 frames a second looks live and costs nothing.
const FPS = 8;
const SHOW_CURSOR = '\u001b[?25h';
// Room left for "  [", "] " and a typical counter tail ("45% | 1.2/2.7 GB | 3,400,000 rows | ...").
const TAIL_RESERVE = 72;

/** A pause for a server rate limit, shown on the bar in place of the ETA. */
interface RateWait {
  until: number;
  reason: string;
}

function clockTime(epochMs: number): string {
  return new Date(epochMs).toTimeString().slice(0, 8);
}

// Pauses shorter than this are routine pacing: they show on the bar but get no line of their own.
const NOTICEABLE_WAIT_MS = 2000;

function renderBarLine(f: TableFigures, labelWidth: number, maxWidth: number, wait?: RateWait): string {
  const label = f.label.padEnd(labelWidth);
  const parts: string[] = [];
  if (f.totalBytes !== undefined) parts.push(`${f.percent ?? 0}%`, formatBytesOf(f.bytesRead, f.totalBytes));
  else parts.push(formatBytes(f.bytesRead));
  parts.push(countOf(f.rows, 'row'));
  if (f.pass === 'upload') parts.push(countOf(f.chunksSent, 'chunk'));
  const paused = wait !== undefined && !f.done;
  // While paused the rate means nothing; the room goes to when sending resumes.
  if (f.bytesPerSec !== undefined && !paused) parts.push(`${formatBytes(f.bytesPerSec)}/s`);
  if (f.done) parts.push(`done in ${formatDuration(f.elapsedMs / 1000)}`);
  else if (paused) parts.push(`rate limit: until ${clockTime(wait.until)}`);
  else if (f.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(f.etaSeconds)}`);
  const tail = parts.join(' | ');
  // Without a size there is nothing to fill a bar with; the counters alone still show movement.
  if (f.totalBytes === undefined || f.percent === undefined) return `${label}  ${tail}`;
  // Sized from the terminal and label only, so the bar does not jitter as the counters change length.
  const width = Math.min(30, Math.max(10, maxWidth - label.length - TAIL_RESERVE));
  const filled = Math.round((width * f.percent) / 100);
  return `${label}  [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${tail}`;
}

/**
 * ora needs the cursor methods of a tty.WriteStream; any other stream flagged as a TTY gets them
 * through readline, which only needs `write`.
 */
function asTtyStream(stream: ReporterStream): NodeJS.WritableStream {
  const s = stream as ReporterStream & { cursorTo?: unknown; rows?: number };
  if (typeof s.cursorTo === 'function') return stream;
  const shim = {
    isTTY: true,
    get columns() {
      return stream.columns;
    },
    get rows() {
      return s.rows;
    },
    write: (chunk: string | Uint8Array) => stream.write(chunk),
    cursorTo: (x: number, y?: number) => readline.cursorTo(stream, x, y),
    moveCursor: (dx: number, dy: number) => readline.moveCursor(stream, dx, dy),
    clearLine: (dir: -1 | 0 | 1) => readline.clearLine(stream, dir),
    once: (event: string, fn: () => void) => stream.once(event, fn),
    removeListener: (event: string, fn: () => void) => stream.removeListener(event, fn),
  };
  // The shim covers every member ora uses on its stream; it is not a full Writable.
  return shim as unknown as NodeJS.WritableStream;
}

/** Animated reporter for an interactive terminal. */
export function createTtyReporter(o: TtyReporterOptions): Reporter {
  const { stream, now } = o;
  const spinnerStream = asTtyStream(stream);
  let spinner: Ora | undefined;
  let bars: cliProgress.MultiBar | undefined;
  let current: TableTracker | undefined;
  let labelWidth = 0;
  let closed = false;
  let rateWait: RateWait | undefined;

  // A crash that skips close() must not leave the user's terminal without a cursor; ora restores
  // its own, this covers the bars. Signals stay with the CLI (it aborts and then closes us).
  const restoreCursorOnExit = (): void => {
    stream.write(SHOW_CURSOR);
  };

  const startBars = (): cliProgress.MultiBar => {
    if (bars !== undefined) return bars;
    bars = new cliProgress.MultiBar({
      stream,
      fps: FPS,
      hideCursor: true,
      clearOnComplete: false,
      // Trim each frame to the terminal width instead of switching the terminal's autowrap off.
      linewrap: true,
      // cli-progress only rewrites a bar whose text changed, but flushing log() lines wipes the bar line.
      forceRedraw: true,
      gracefulExit: false,
      format: (_options, params, payload: { tracker: TableTracker }) =>
        renderBarLine(payload.tracker.figures(now()), labelWidth, params.maxWidth, payload.tracker === current ? rateWait : undefined),
    });
    process.once('exit', restoreCursorOnExit);
    return bars;
  };

  // A pass still open here (interrupt, or a step started mid-table) keeps its last figures, not "done".
  const endBars = (): void => {
    current = undefined;
    if (bars === undefined) return;
    // stop() does not flush lines queued with log(), update() does.
    bars.update();
    bars.stop();
    bars = undefined;
    process.removeListener('exit', restoreCursorOnExit);
  };

  const endSpinner = (ok: boolean, text?: string): void => {
    if (spinner === undefined) return;
    if (ok) spinner.succeed(text);
    else spinner.fail(text);
    spinner = undefined;
  };

  const emitLine = (line: string): void => {
    const text = `${LINE_TAG}${line}\n`;
    if (bars !== undefined) {
      bars.log(text);
    } else if (spinner !== undefined) {
      spinner.clear();
      stream.write(text);
      spinner.render();
    } else {
      stream.write(text);
    }
  };

  return {
    step(text) {
      if (closed) return;
      endBars();
      if (spinner !== undefined) {
        spinner.text = text;
        return;
      }
      spinner = ora({ stream: spinnerStream, text, isEnabled: true, discardStdin: false, hideCursor: true }).start();
    },
    stepDone(text, ok = true) {
      if (closed) return;
      if (spinner !== undefined) endSpinner(ok, text);
      else if (!ok) emitLine(`failed: ${text ?? 'step'}`);
      else if (text !== undefined) emitLine(text);
    },
    startTable(start) {
      if (closed) return;
      // The caller moved on to data without closing its step; that step evidently finished.
      endSpinner(true);
      current = new TableTracker(start, now());
      labelWidth = Math.max(labelWidth, current.label.length);
      startBars().create(1, 0, { tracker: current });
    },
    progress(update) {
      // Only records the figures; the bar's timer reads them at its own frame rate.
      if (closed || current === undefined) return;
      current.update(update, now());
    },
    endTable(final) {
      if (closed || current === undefined) return;
      current.finish(final, now());
      current = undefined;
      endBars();
    },
    waiting(wait) {
      rateWait = wait;
      if (!closed && wait !== undefined && wait.until - now() >= NOTICEABLE_WAIT_MS) {
        emitLine(`waiting for the rate limit until ${clockTime(wait.until)} (at most ${wait.reason})`);
      }
    },
    warn(line) {
      if (closed) stream.write(`${LINE_TAG}${line}\n`);
      else emitLine(line);
    },
    info(line) {
      if (!closed) emitLine(line);
    },
    close() {
      if (closed) return;
      closed = true;
      endSpinner(false);
      endBars();
    },
  };
}
