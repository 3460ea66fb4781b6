// Built-in values for settings nobody set. Plain data, so --verbose can say "default" and docs can
// quote it. Settings left out here (delimiter, quote, nullValues, ...) are decided by whoever uses them.

import type { LoginMode, TargetName } from './validate.js';

/** The values a run uses when neither a flag, the environment nor a config file sets them. */
export interface DefaultSettings {
  readonly target: TargetName;
  readonly loginMode: LoginMode;
  /** Bytes of JSON per chunk request. */
  readonly chunkSize: number;
  /** Milliseconds to wait for a publication. */
  readonly timeout: number;
  /** Milliseconds between publication status checks. */
  readonly pollInterval: number;
  readonly retries: number;
  readonly header: boolean;
  readonly insecure: boolean;
  readonly allowHttp: boolean;
}

/**
 * The vendor docs recommend chunks of "100MB" (between 50 and 200MB); read as decimal megabytes,
 * that is 100,000,000 bytes, which also keeps a chunk well under the 256 MB request limit.
 */
export const DEFAULT_SETTINGS: DefaultSettings = Object.freeze({
  target: 'mstr',
  loginMode: 1,
  chunkSize: 100_000_000,
  timeout: 30 * 60 * 1000,
  pollInterval: 1000,
  retries: 5,
  header: true,
  insecure: false,
  allowHttp: false,
});
