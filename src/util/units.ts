// Byte sizes and durations as people type them (`100MB`, `1MiB`, `90s`, `1h30m`) and as we print them.
// Pure: flags, environment values and config files all go through these parsers.

import { UsageError } from '../errors.js';

const BYTE_EXAMPLES = 'e.g. 300000, 512KB, 100MB, 1MiB, 1.5GB';
const DURATION_EXAMPLES = 'e.g. 45 (seconds), 1500ms, 90s, 30m, 2h, 1h30m';

// KB/MB/GB are decimal because that is how the vendor docs state chunk sizes ("100MB"); the
// binary units are there for people who think in powers of two.
const BYTE_UNITS: Readonly<Record<string, bigint>> = {
  '': 1n,
  b: 1n,
  k: 1000n,
  kb: 1000n,
  m: 1000n ** 2n,
  mb: 1000n ** 2n,
  g: 1000n ** 3n,
  gb: 1000n ** 3n,
  t: 1000n ** 4n,
  tb: 1000n ** 4n,
  ki: 1024n,
  kib: 1024n,
  mi: 1024n ** 2n,
  mib: 1024n ** 2n,
  gi: 1024n ** 3n,
  gib: 1024n ** 3n,
  ti: 1024n ** 4n,
  tib: 1024n ** 4n,
};

const BYTE_PATTERN = /^(\d+)(?:\.(\d+))?\s*([a-z]*)$/i;

/**
 * Parses a byte size into a whole number of bytes. A bare number is bytes; `KB`/`MB`/`GB`/`TB`
 * (or `k`/`m`/`g`/`t`) are powers of 1000 and `KiB`/`MiB`/`GiB`/`TiB` powers of 1024. Units are
 * case-insensitive and may follow a space. Zero, negatives and sizes that are not a whole number
 * of bytes (`1.5B`) are rejected.
 * @throws UsageError naming the value and showing accepted forms.
 */
export function parseByteSize(input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input > 0) return input;
    throw invalidByteSize(String(input), 'a size must be a whole number of bytes greater than zero');
  }
  const text = input.trim();
  const match = BYTE_PATTERN.exec(text);
  const multiplier = match ? BYTE_UNITS[(match[3] ?? '').toLowerCase()] : undefined;
  if (!match || multiplier === undefined) throw invalidByteSize(input);
  const whole = match[1] ?? '';
  const fraction = match[2] ?? '';
  // BigInt keeps `1.1MB` exact; floating point would make it 1100000.0000000002 bytes.
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(whole + fraction) * multiplier;
  if (scaled % scale !== 0n) throw invalidByteSize(input, 'that is not a whole number of bytes');
  const bytes = scaled / scale;
  if (bytes === 0n) throw invalidByteSize(input, 'a size must be greater than zero');
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidByteSize(input, 'that is too large');
  return Number(bytes);
}

function invalidByteSize(value: string, why?: string): UsageError {
  const reason = why === undefined ? '' : ` (${why})`;
  return new UsageError(`invalid byte size '${value}'${reason}; use bytes or a number with a unit, ${BYTE_EXAMPLES}`);
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h)/giy;

/**
 * Parses a duration into whole milliseconds. A string is `<number><unit>` with unit `ms`, `s`,
 * `m` or `h`, parts may be combined (`1h30m`, `2m 5s`), and a bare string number means seconds.
 * A JS number is taken as milliseconds already (the form a config file uses for `timeout: 1800000`).
 * Zero, negatives and junk are rejected.
 * @throws UsageError naming the value and showing accepted forms.
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input > 0) return input;
    throw invalidDuration(String(input), 'a duration in milliseconds must be a whole number greater than zero');
  }
  const text = input.trim();
  let ms: number;
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    ms = 0;
    DURATION_PART.lastIndex = 0;
    let consumed = 0;
    let parts = 0;
    for (;;) {
      const match = DURATION_PART.exec(text);
      if (!match) break;
      ms += Number(match[1]) * (DURATION_UNITS[(match[2] ?? '').toLowerCase()] ?? Number.NaN);
      parts += 1;
      consumed = DURATION_PART.lastIndex;
      while (text[consumed] === ' ') consumed += 1;
      DURATION_PART.lastIndex = consumed;
    }
    if (parts === 0 || consumed !== text.length) throw invalidDuration(input);
  }
  const rounded = Math.round(ms);
  if (!Number.isSafeInteger(rounded)) throw invalidDuration(input, 'that is too long');
  if (rounded <= 0) throw invalidDuration(input, 'a duration must be at least 1ms');
  return rounded;
}

function invalidDuration(value: string, why?: string): UsageError {
  const reason = why === undefined ? '' : ` (${why})`;
  return new UsageError(`invalid duration '${value}'${reason}; use ${DURATION_EXAMPLES}`);
}

const BYTE_LABELS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** Formats bytes with decimal units and three significant digits: `512 B`, `1.5 GB`, `100 MB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const sign = bytes < 0 ? '-' : '';
  const size = Math.abs(bytes);
  if (size < 1000) return `${sign}${Math.round(size)} B`;
  let unit = 0;
  let value = size;
  // Rounding before comparing so 999,999 bytes prints as "1 MB", not "1000 KB".
  while (unit < BYTE_LABELS.length - 1 && roundSignificant(value) >= 1000) {
    unit += 1;
    value = size / 1000 ** unit;
  }
  return `${sign}${roundSignificant(value)} ${BYTE_LABELS[unit] ?? 'B'}`;
}

/**
 * Formats milliseconds for people: `850ms`, `1.5s`, `45s`, `2m 5s`, `1h 30m`. `parseDuration` reads back
 * anything it prints for a positive duration.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) {
    const seconds = Math.round(ms / 100) / 10;
    if (seconds < 60) return `${seconds}s`;
  }
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts: string[] = [];
  if (hours > 0) parts.push(`${hours}h`);
  if (minutes > 0) parts.push(`${minutes}m`);
  if (seconds > 0) parts.push(`${seconds}s`);
  return parts.join(' ');
}

function roundSignificant(value: number): number {
  return value >= 1000 ? Math.round(value) : Number(value.toPrecision(3));
}

/**
 * A whole number with commas between thousands, as `toLocaleString('en-US')` writes it, without
 * loading the ICU locale data that the first such call costs (about 20 ms of a short run).
 */
export function groupThousands(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 ? `-${digits}` : digits;
}
