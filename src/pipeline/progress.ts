// What the pipeline tells the outside world while it runs. The CLI's reporters implement it;
// the pipeline never imports a UI library.

export interface TableStart {
  table: string;
  file: string;
  totalBytes: number | undefined;
  pass: 'scan' | 'upload';
}

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
