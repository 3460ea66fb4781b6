// Figures shared by the plain and tty reporters: per-table counters, a windowed transfer rate,
// and the small number/byte/duration formatters their lines are built from.

import type { TableProgress, TableStart } from './reporter.js';

/** Prefix of every line the plain and silent reporters write, so tool output is easy to grep in logs. */
export const LINE_TAG = 'mstrpush: ';

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;

// Decimal units (1 MB = 1,000,000 bytes), matching the "MB" spelling; binary units would be "MiB".
function byteScale(n: number): { divisor: number; unit: string } {
  if (n < 999.5) return { divisor: 1, unit: 'B' };
  let divisor = 1000;
  let i = 1;
  // 999.95 rather than 1000 so a value that rounds up to "1000.0" moves to the next unit.
  while (n / divisor >= 999.95 && i < BYTE_UNITS.length - 1) {
    divisor *= 1000;
    i += 1;
  }
  return { divisor, unit: BYTE_UNITS[i] ?? 'B' };
}

function scaled(n: number, divisor: number): string {
  return divisor === 1 ? String(Math.round(n)) : (n / divisor).toFixed(1);
}

function clean(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** `1234567` → `"1.2 MB"`; below 1 kB → `"512 B"`. */
export function formatBytes(n: number): string {
  const v = clean(n);
  const { divisor, unit } = byteScale(v);
  return `${scaled(v, divisor)} ${unit}`;
}

/** Both figures in the unit of the total: `(1.2e9, 2.7e9)` → `"1.2/2.7 GB"`. */
export function formatBytesOf(value: number, total: number): string {
  const t = clean(total);
  const { divisor, unit } = byteScale(t);
  return `${scaled(clean(value), divisor)}/${scaled(t, divisor)} ${unit}`;
}

/** Integer with comma thousands separators, independent of the process locale. */
/** `1 row`, `3,400,000 rows`. */
export function countOf(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

export function formatCount(n: number): string {
  return String(Math.round(clean(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Seconds → `"0:41"`, `"12:05"`, `"1:02:03"`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(clean(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Bytes per second over a sliding window, so the rate and ETA follow slowdowns instead of averaging them away. */
export class RateMeter {
  private readonly windowMs: number;
  private readonly minSpanMs: number;
  // Samples at least SAMPLE_GAP_MS apart keep the array bounded (window / gap entries) however often add() runs.
  private readonly samples: { t: number; v: number }[] = [];
  private latest: { t: number; v: number } | undefined;

  constructor(windowMs = 10_000, minSpanMs = 1_000) {
    this.windowMs = windowMs;
    this.minSpanMs = minSpanMs;
  }

  add(t: number, v: number): void {
    this.latest = { t, v };
    const last = this.samples.at(-1);
    if (last === undefined || t - last.t >= SAMPLE_GAP_MS) this.samples.push({ t, v });
    // Keep one sample at or before the window start so the span covers the whole window.
    while (this.samples.length > 1 && (this.samples[1]?.t ?? Infinity) <= t - this.windowMs) this.samples.shift();
  }

  /** Undefined until the samples span `minSpanMs`, because an early rate is mostly noise. */
  rate(): number | undefined {
    const first = this.samples[0];
    const last = this.latest;
    if (first === undefined || last === undefined) return undefined;
    const span = last.t - first.t;
    if (span < this.minSpanMs) return undefined;
    return Math.max(0, last.v - first.v) / (span / 1000);
  }
}

const SAMPLE_GAP_MS = 250;

/** Everything a reporter line shows about one table pass at one instant. */
export interface TableFigures extends TableProgress {
  table: string;
  /** Table name, with " (scan)" for the schema-scan pass. */
  label: string;
  file: string;
  pass: TableStart['pass'];
  totalBytes: number | undefined;
  /** Whole percent of `totalBytes` read (floored, so 100 only when all is read); undefined when the size is unknown. */
  percent: number | undefined;
  /** File bytes read per second: windowed while running, the overall average once done. */
  bytesPerSec: number | undefined;
  etaSeconds: number | undefined;
  elapsedMs: number;
  done: boolean;
}

/** Running state of one table pass; the rate is over file bytes read, which backpressure ties to upload speed. */
export class TableTracker {
  readonly start: TableStart;
  private readonly startedAt: number;
  private readonly meter = new RateMeter();
  private latest: TableProgress = { bytesRead: 0, rows: 0, chunksSent: 0, bytesSent: 0 };
  private endedAt: number | undefined;

  constructor(start: TableStart, now: number) {
    this.start = start;
    this.startedAt = now;
    this.meter.add(now, 0);
  }

  get label(): string {
    return this.start.pass === 'scan' ? `${this.start.table} (scan)` : this.start.table;
  }

  get isDone(): boolean {
    return this.endedAt !== undefined;
  }

  update(p: TableProgress, now: number): void {
    if (this.endedAt !== undefined) return;
    this.latest = { bytesRead: p.bytesRead, rows: p.rows, chunksSent: p.chunksSent, bytesSent: p.bytesSent };
    this.meter.add(now, p.bytesRead);
  }

  finish(p: TableProgress | undefined, now: number): void {
    if (this.endedAt !== undefined) return;
    if (p !== undefined) this.update(p, now);
    this.endedAt = now;
  }

  figures(now: number): TableFigures {
    const { totalBytes } = this.start;
    const { bytesRead } = this.latest;
    const done = this.endedAt !== undefined;
    const elapsedMs = Math.max(0, (this.endedAt ?? now) - this.startedAt);
    let percent: number | undefined;
    if (totalBytes !== undefined) percent = totalBytes <= 0 ? 100 : Math.min(100, Math.floor((bytesRead / totalBytes) * 100));
    const bytesPerSec = done ? (elapsedMs > 0 ? bytesRead / (elapsedMs / 1000) : undefined) : this.meter.rate();
    let etaSeconds: number | undefined;
    if (!done && totalBytes !== undefined && bytesPerSec !== undefined && bytesPerSec > 0) {
      etaSeconds = Math.max(0, totalBytes - bytesRead) / bytesPerSec;
    }
    return {
      ...this.latest,
      table: this.start.table,
      label: this.label,
      file: this.start.file,
      pass: this.start.pass,
      totalBytes,
      percent,
      bytesPerSec,
      etaSeconds,
      elapsedMs,
      done,
    };
  }
}
