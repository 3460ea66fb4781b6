// Reporter for logs, pipes and CI: no escape codes, one self-contained line per event, and at most
// one progress line per interval however often the pipeline reports.

import { LINE_TAG, TableTracker, formatBytes, formatCount, formatDuration, countOf } from './progress-format.js';
import type { TableFigures } from './progress-format.js';
import type { Reporter, ReporterStream, TableProgress, TableStart } from './reporter.js';

export interface PlainReporterOptions {
  stream: ReporterStream;
  now: () => number;
  intervalMs: number;
}

function rateAndEta(f: TableFigures): string[] {
  const parts: string[] = [];
  if (f.bytesPerSec !== undefined) parts.push(`${formatBytes(f.bytesPerSec)}/s`);
  if (f.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(f.etaSeconds)}`);
  return parts;
}

function startLine(s: TableStart): string {
  const verb = s.pass === 'scan' ? 'scanning' : 'uploading';
  const size = s.totalBytes === undefined ? '' : ` (${formatBytes(s.totalBytes)})`;
  return `${s.table}: ${verb} ${s.file}${size}`;
}

function progressLine(f: TableFigures): string {
  const amount =
    f.totalBytes === undefined ? formatBytes(f.bytesRead) : `${f.percent ?? 0}% ${formatBytes(f.bytesRead)}/${formatBytes(f.totalBytes)}`;
  const parts = [countOf(f.rows, 'row')];
  if (f.pass === 'upload') parts.push(`${countOf(f.chunksSent, 'chunk')} sent`);
  parts.push(...rateAndEta(f));
  const head = f.pass === 'scan' ? `${f.table}: scanning ${amount}` : `${f.table}: ${amount}`;
  return `${head}, ${parts.join(', ')}`;
}

function endLine(f: TableFigures): string {
  const took = ` in ${formatDuration(f.elapsedMs / 1000)}`;
  const rate = f.bytesPerSec === undefined ? '' : `, ${formatBytes(f.bytesPerSec)}/s`;
  const read = `${formatBytes(f.bytesRead)}, ${countOf(f.rows, 'row')}`;
  if (f.pass === 'scan') return `${f.table}: scanned ${read}${took}${rate}`;
  const sent = `${countOf(f.chunksSent, 'chunk')} (${formatBytes(f.bytesSent)}) sent`;
  return `${f.table}: uploaded ${read}, ${sent}${took}${rate}`;
}

/** Plain-text reporter: every line starts with `mstrpush: ` and ends with a newline. */
export function createPlainReporter(o: PlainReporterOptions): Reporter {
  const { stream, now, intervalMs } = o;
  let table: TableTracker | undefined;
  let lastLineAt = 0;
  let stepText: string | undefined;
  let closed = false;

  const write = (line: string): void => {
    stream.write(`${LINE_TAG}${line}\n`);
  };

  return {
    step(text) {
      if (closed) return;
      stepText = text;
      write(text);
    },
    stepDone(text, ok = true) {
      if (closed) return;
      const running = stepText;
      stepText = undefined;
      // A successful step without new text was already announced by step(); repeating it is noise.
      if (!ok) write(`failed: ${text ?? running ?? 'step'}`);
      else if (text !== undefined) write(text);
    },
    startTable(start) {
      if (closed) return;
      const t = now();
      table = new TableTracker(start, t);
      // The start line counts as this table's first status line for the throttle.
      lastLineAt = t;
      write(startLine(start));
    },
    progress(update: TableProgress) {
      if (closed || table === undefined) return;
      const t = now();
      table.update(update, t);
      if (t - lastLineAt < intervalMs) return;
      lastLineAt = t;
      write(progressLine(table.figures(t)));
    },
    endTable(final) {
      if (closed || table === undefined) return;
      const t = now();
      table.finish(final, t);
      write(endLine(table.figures(t)));
      table = undefined;
    },
    warn(line) {
      write(line);
    },
    info(line) {
      if (!closed) write(line);
    },
    close() {
      closed = true;
      table = undefined;
    },
  };
}
