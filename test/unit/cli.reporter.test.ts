import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { chooseReporterMode, createReporter } from '../../src/cli/ui/reporter.js';
import type { Reporter, ReporterModeInput, TableProgress } from '../../src/cli/ui/reporter.js';
import { formatBytes, formatBytesOf, formatCount, formatDuration } from '../../src/cli/ui/progress-format.js';
import type { ProgressSink } from '../../src/pipeline/progress.js';

const SHOW_CURSOR = '\u001b[?25h';
const HIDE_CURSOR = '\u001b[?25l';

/** Collects everything written, and can pretend to be a terminal. */
class CaptureStream extends Writable {
  text = '';
  isTTY: boolean;
  columns: number | undefined;

  constructor(tty: boolean, columns?: number) {
    super({ decodeStrings: false });
    this.isTTY = tty;
    this.columns = columns;
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
    this.text += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    cb();
  }

  get plain(): string {
    return stripVTControlCharacters(this.text);
  }

  get lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '');
  }
}

function manualClock(): { now: () => number; set: (t: number) => void } {
  let t = 0;
  return { now: () => t, set: (v) => (t = v) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const MB = 1_000_000;

describe('chooseReporterMode', () => {
  const base: ReporterModeInput = { isTTY: true, quiet: false, json: false, ci: false, verbose: false };
  it.each<[string, Partial<ReporterModeInput>, string]>([
    ['a plain interactive terminal', {}, 'tty'],
    ['--quiet on a terminal', { quiet: true }, 'silent'],
    ['--json on a terminal', { json: true }, 'plain'],
    ['CI on a terminal', { ci: true }, 'plain'],
    ['--verbose on a terminal', { verbose: true }, 'plain'],
    ['stderr redirected', { isTTY: false }, 'plain'],
    ['stderr redirected with --quiet', { isTTY: false, quiet: true }, 'silent'],
    ['--quiet together with --verbose', { quiet: true, verbose: true }, 'silent'],
    ['--quiet together with --json', { quiet: true, json: true }, 'silent'],
  ])('chooses the right mode for %s', (_name, overrides, expected) => {
    expect(chooseReporterMode({ ...base, ...overrides })).toBe(expected);
  });
});

describe('progress-format', () => {
  it('formats byte sizes in decimal units with one decimal', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(12_345_678)).toBe('12.3 MB');
    expect(formatBytes(999_960)).toBe('1.0 MB');
    expect(formatBytesOf(1.2e9, 2.7e9)).toBe('1.2/2.7 GB');
  });

  it('formats counts with thousands separators and durations as clock time', () => {
    expect(formatCount(3_400_000)).toBe('3,400,000');
    expect(formatCount(999)).toBe('999');
    expect(formatDuration(41)).toBe('0:41');
    expect(formatDuration(3723)).toBe('1:02:03');
  });
});

describe('plain reporter', () => {
  function steadyUpload(r: Reporter, clock: ReturnType<typeof manualClock>, untilMs: number): void {
    for (let t = 500; t <= untilMs; t += 500) {
      clock.set(t);
      r.progress({ bytesRead: 10 * MB * (t / 1000), rows: 68_000 * (t / 1000), chunksSent: Math.floor(t / 1000), bytesSent: 0 });
    }
  }

  it('prints at most one progress line per interval with the current figures', () => {
    const stream = new CaptureStream(false);
    const clock = manualClock();
    const r = createReporter({ mode: 'plain', stream, now: clock.now, plainIntervalMs: 5000 });
    r.startTable({ table: 'sales', file: 'sales.csv', totalBytes: 100 * MB, pass: 'upload' });
    steadyUpload(r, clock, 12_000);
    expect(stream.lines).toEqual([
      'mstrpush: sales: uploading sales.csv (100.0 MB)',
      'mstrpush: sales: 50% 50.0 MB/100.0 MB, 340,000 rows, 5 chunks sent, 10.0 MB/s, ETA 0:05',
      'mstrpush: sales: 100% 100.0 MB/100.0 MB, 680,000 rows, 10 chunks sent, 10.0 MB/s, ETA 0:00',
    ]);
  });

  it('closes each table with one summary line including bytes sent and the average rate', () => {
    const stream = new CaptureStream(false);
    const clock = manualClock();
    const r = createReporter({ mode: 'plain', stream, now: clock.now, plainIntervalMs: 5000 });
    r.startTable({ table: 'sales', file: 'sales.csv', totalBytes: 100 * MB, pass: 'upload' });
    clock.set(12_000);
    r.endTable({ bytesRead: 100 * MB, rows: 680_000, chunksSent: 12, bytesSent: 110 * MB });
    expect(stream.lines.at(-1)).toBe('mstrpush: sales: uploaded 100.0 MB, 680,000 rows, 12 chunks (110.0 MB) sent in 0:12, 8.3 MB/s');
  });

  it('reports the recent rate rather than the average after a slowdown', () => {
    const stream = new CaptureStream(false);
    const clock = manualClock();
    const r = createReporter({ mode: 'plain', stream, now: clock.now, plainIntervalMs: 10_000 });
    r.startTable({ table: 't', file: 't.csv', totalBytes: 200 * MB, pass: 'upload' });
    for (let s = 1; s <= 20; s += 1) {
      clock.set(s * 1000);
      const bytes = s <= 10 ? s * 10 * MB : 100 * MB + (s - 10) * MB;
      r.progress({ bytesRead: bytes, rows: s, chunksSent: 0, bytesSent: 0 });
    }
    const progressLines = stream.lines.slice(1);
    expect(progressLines).toHaveLength(2);
    expect(progressLines[0]).toContain('10.0 MB/s, ETA 0:10');
    expect(progressLines[1]).toContain('1.0 MB/s, ETA 1:30');
  });

  it('leaves out the percentage and ETA when the size is unknown, and says when it is scanning', () => {
    const stream = new CaptureStream(false);
    const clock = manualClock();
    const r = createReporter({ mode: 'plain', stream, now: clock.now, plainIntervalMs: 1000 });
    r.startTable({ table: 'events', file: 'stdin', totalBytes: undefined, pass: 'scan' });
    clock.set(2000);
    r.progress({ bytesRead: 12 * MB, rows: 5000, chunksSent: 0, bytesSent: 0 });
    clock.set(4000);
    r.endTable({ bytesRead: 20 * MB, rows: 9000, chunksSent: 0, bytesSent: 0 });
    expect(stream.lines).toEqual([
      'mstrpush: events: scanning stdin',
      'mstrpush: events: scanning 12.0 MB, 5,000 rows, 6.0 MB/s',
      'mstrpush: events: scanned 20.0 MB, 9,000 rows in 0:04, 5.0 MB/s',
    ]);
  });

  it('restarts the throttle for each table', () => {
    const stream = new CaptureStream(false);
    const clock = manualClock();
    const r = createReporter({ mode: 'plain', stream, now: clock.now, plainIntervalMs: 5000 });
    const p: TableProgress = { bytesRead: 1, rows: 1, chunksSent: 0, bytesSent: 0 };
    r.startTable({ table: 'a', file: 'a.csv', totalBytes: 10, pass: 'upload' });
    clock.set(4000);
    r.endTable(p);
    r.startTable({ table: 'b', file: 'b.csv', totalBytes: 10, pass: 'upload' });
    clock.set(6000);
    r.progress(p);
    expect(stream.lines.filter((l) => l.startsWith('mstrpush: b: 10%'))).toHaveLength(0);
    clock.set(9000);
    r.progress(p);
    expect(stream.lines.filter((l) => l.startsWith('mstrpush: b: 10%'))).toHaveLength(1);
  });

  it('announces steps once and reports only failures or new text when they end', () => {
    const stream = new CaptureStream(false);
    const r = createReporter({ mode: 'plain', stream });
    r.step('Logging in');
    r.stepDone();
    r.step('Publishing');
    r.stepDone(undefined, false);
    r.step('Creating dataset');
    r.stepDone('Dataset created');
    expect(stream.lines).toEqual([
      'mstrpush: Logging in',
      'mstrpush: Publishing',
      'mstrpush: failed: Publishing',
      'mstrpush: Creating dataset',
      'mstrpush: Dataset created',
    ]);
  });

  it('drops info after close but still prints warnings', () => {
    const stream = new CaptureStream(false);
    const r = createReporter({ mode: 'plain', stream });
    r.info('before');
    r.close();
    r.close();
    r.info('after');
    r.warn('retrying chunk 3');
    expect(stream.lines).toEqual(['mstrpush: before', 'mstrpush: retrying chunk 3']);
  });

  it('fits the pipeline progress sink without adapters', () => {
    const sink: ProgressSink = createReporter({ mode: 'plain', stream: new CaptureStream(false) });
    expect(typeof sink.progress).toBe('function');
  });
});

describe('silent reporter', () => {
  it('prints nothing except warnings', () => {
    const stream = new CaptureStream(true, 120);
    const r = createReporter({ mode: 'silent', stream });
    r.step('Logging in');
    r.stepDone('Logged in');
    r.startTable({ table: 'sales', file: 'sales.csv', totalBytes: 100, pass: 'upload' });
    r.progress({ bytesRead: 50, rows: 5, chunksSent: 1, bytesSent: 50 });
    r.endTable({ bytesRead: 100, rows: 10, chunksSent: 2, bytesSent: 100 });
    r.info('hello');
    r.warn('server throttled, retrying in 2 s');
    r.close();
    expect(stream.text).toBe('mstrpush: server throttled, retrying in 2 s\n');
  });
});

describe('tty reporter', () => {
  const exitListeners = process.listenerCount('exit');

  async function ttyReporter(clockNow: () => number): Promise<{ r: Reporter; stream: CaptureStream }> {
    const stream = new CaptureStream(true, 120);
    const r = await createReporter({ mode: 'tty', stream, now: clockNow });
    return { r, stream };
  }

  it('draws a bar line with the table name, percent, bytes, rows, chunks, rate and ETA', async () => {
    const clock = manualClock();
    const { r, stream } = await ttyReporter(clock.now);
    r.startTable({ table: 'sales', file: 'sales.csv', totalBytes: 2.7e9, pass: 'upload' });
    clock.set(32_000);
    r.progress({ bytesRead: 1.215e9, rows: 3_400_000, chunksSent: 12, bytesSent: 1.3e9 });
    await sleep(400);
    expect(stream.text).toContain(HIDE_CURSOR);
    const bar = stream.plain.split('\n').find((l) => l.includes('sales') && l.includes('rows'));
    expect(bar).toMatch(/^sales {2}\[█+░+\] 45% \| 1\.2\/2\.7 GB \| 3,400,000 rows \| 12 chunks \| 38\.0 MB\/s \| ETA 0:39/);
    r.close();
    expect(stream.text.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(stream.text.lastIndexOf(HIDE_CURSOR));
    expect(process.listenerCount('exit')).toBe(exitListeners);
  });

  it('shows a rate-limit pause and until when on the bar in place of the ETA, and the ETA again after it', async () => {
    const clock = manualClock();
    const { r, stream } = await ttyReporter(clock.now);
    r.startTable({ table: 'sales', file: 'sales.csv', totalBytes: 1e6, pass: 'upload' });
    clock.set(2000);
    r.progress({ bytesRead: 5e5, rows: 20_000, chunksSent: 2, bytesSent: 5e5 });
    const until = new Date(2026, 10, 22, 14, 3, 5).getTime();
    clock.set(until - 30_000);
    r.waiting?.({ until, reason: '120 POST rows requests per minute per dataset' });
    await sleep(300);
    const waitingBar = stream.plain.split('\n').reverse().find((l) => l.startsWith('sales'));
    expect(waitingBar).toContain('rate limit: until 14:03:05');
    expect(waitingBar).not.toContain('ETA');
    expect(stream.plain).toContain('mstrpush: waiting for the rate limit until 14:03:05 (at most 120 POST rows requests per minute per dataset)');
    r.waiting?.(undefined);
    await sleep(300);
    expect(stream.plain.split('\n').reverse().find((l) => l.startsWith('sales'))).toContain('ETA');
    r.close();
  });

  it('shows bytes and rows without a bar, percentage or ETA when the size is unknown', async () => {
    const clock = manualClock();
    const { r, stream } = await ttyReporter(clock.now);
    r.startTable({ table: 'events', file: 'stdin', totalBytes: undefined, pass: 'upload' });
    clock.set(2000);
    r.progress({ bytesRead: 12 * MB, rows: 5000, chunksSent: 2, bytesSent: 12 * MB });
    r.close();
    expect(stream.plain).toContain('events  12.0 MB | 5,000 rows | 2 chunks | 6.0 MB/s');
    expect(stream.plain).not.toContain('%');
    expect(stream.plain).not.toContain('ETA');
  });

  it('completes the bar when the table ends', async () => {
    const clock = manualClock();
    const { r, stream } = await ttyReporter(clock.now);
    r.startTable({ table: 'sales', file: 'sales.csv', totalBytes: 100 * MB, pass: 'scan' });
    clock.set(10_000);
    r.endTable({ bytesRead: 100 * MB, rows: 1000, chunksSent: 0, bytesSent: 0 });
    expect(stream.plain).toMatch(/sales \(scan\) {2}\[█+\] 100% \| 100\.0\/100\.0 MB \| 1,000 rows \| 10\.0 MB\/s \| done in 0:10/);
    expect(stream.text).toContain(SHOW_CURSOR);
    r.close();
  });

  it('prints warnings above the active bar and redraws the bar below them', async () => {
    const clock = manualClock();
    const { r, stream } = await ttyReporter(clock.now);
    r.startTable({ table: 'sales', file: 'sales.csv', totalBytes: 100 * MB, pass: 'upload' });
    await sleep(300);
    r.warn('retrying chunk 3 after HTTP 503');
    r.close();
    const out = stream.plain;
    const warnAt = out.indexOf('mstrpush: retrying chunk 3 after HTTP 503\n');
    expect(warnAt).toBeGreaterThan(out.indexOf('sales  ['));
    expect(out.lastIndexOf('sales  [')).toBeGreaterThan(warnAt);
  });

  it('runs a spinner for a step and persists its outcome', async () => {
    const { r, stream } = await ttyReporter(manualClock().now);
    r.step('Logging in');
    expect(stream.plain).toContain('Logging in');
    r.stepDone('Logged in');
    r.step('Publishing');
    r.stepDone(undefined, false);
    r.close();
    expect(stream.plain).toMatch(/\S Logged in\n/);
    expect(stream.plain).toMatch(/✖ Publishing\n/);
    expect(stream.text.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(stream.text.lastIndexOf(HIDE_CURSOR));
  });

  it('prints a warning on its own line while a spinner runs and keeps spinning below it', async () => {
    const { r, stream } = await ttyReporter(manualClock().now);
    r.step('Waiting for publish');
    r.warn('publish status still 2 after 60 s');
    const out = stream.plain;
    const warnAt = out.indexOf('mstrpush: publish status still 2 after 60 s\n');
    expect(warnAt).toBeGreaterThan(-1);
    expect(out.lastIndexOf('Waiting for publish')).toBeGreaterThan(warnAt);
    r.stepDone('Published');
    r.close();
    expect(stream.plain).toMatch(/\S Published\n$/);
  });

  it('ends the bars before starting a spinner, and marks an unfinished step failed on close', async () => {
    const clock = manualClock();
    const { r, stream } = await ttyReporter(clock.now);
    r.startTable({ table: 'sales', file: 'sales.csv', totalBytes: 100 * MB, pass: 'upload' });
    clock.set(1000);
    r.progress({ bytesRead: 10 * MB, rows: 10, chunksSent: 1, bytesSent: 10 * MB });
    r.step('Waiting for publish');
    const barAt = stream.plain.lastIndexOf('sales  [');
    expect(barAt).toBeGreaterThan(-1);
    expect(stream.plain.indexOf('Waiting for publish')).toBeGreaterThan(barAt);
    r.close();
    expect(stream.plain).toMatch(/✖ Waiting for publish\n/);
  });

  it('stops redrawing after close and ignores a second close', async () => {
    const clock = manualClock();
    const { r, stream } = await ttyReporter(clock.now);
    r.startTable({ table: 'sales', file: 'sales.csv', totalBytes: 100 * MB, pass: 'upload' });
    r.close();
    const written = stream.text.length;
    r.close();
    clock.set(5000);
    r.progress({ bytesRead: 50 * MB, rows: 10, chunksSent: 1, bytesSent: 0 });
    r.info('ignored');
    await sleep(300);
    expect(stream.text.length).toBe(written);
  });
});
