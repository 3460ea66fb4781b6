// What the pipeline tells the outside world while it runs. The CLI's reporters implement it;
// the pipeline never imports a UI library.

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

export interface ProgressSink {
  step(text: string): void;
  stepDone(text?: string, ok?: boolean): void;
  startTable(start: TableStart): void;
  progress(update: TableProgress): void;
  endTable(final: TableProgress): void;
  warn(line: string): void;
  info(line: string): void;
  /**
   * Optional: sending is paused for a rate limit until `wait.until` (epoch ms) because of
   * `wait.reason` (the limit, in words), or has resumed (undefined). Sinks without it get an
   * `info` line for each noticeable pause instead.
   */
  waiting?(wait: { until: number; reason: string } | undefined): void;
}

export const silentProgress: ProgressSink = {
  step() {},
  stepDone() {},
  startTable() {},
  progress() {},
  endTable() {},
  warn() {},
  info() {},
};
