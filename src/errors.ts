// One error hierarchy for the whole tool. Every expected failure is an MstrPushError whose
// class fixes the process exit code; cli/main.ts is the only place that turns them into output.

export const EXIT_CODES = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  input: 4,
  auth: 5,
  remote: 6,
  partial: 7,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export const ERROR_CODES = [
  'USAGE',
  'CONFIG_INVALID',
  'CONFIG_MISSING',
  'INPUT_NOT_FOUND',
  'INPUT_READ',
  'INPUT_PARSE',
  'INPUT_VALUE',
  'INPUT_SCHEMA',
  'INPUT_RECORD_TOO_LARGE',
  'INPUT_EMPTY',
  'AUTH_FAILED',
  'AUTH_MISSING',
  'HTTP_STATUS',
  'HTTP_NETWORK',
  'HTTP_TIMEOUT',
  'HTTP_BAD_RESPONSE',
  'MSTR_NOT_FOUND',
  'PUBLISH_FAILED',
  'PUBLISH_TIMEOUT',
  'UPLOAD_PARTIAL',
  'INTERRUPTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where in an input file a problem sits; every field optional because not every error has all. */
export interface InputLocation {
  file?: string;
  line?: number;
  column?: string | number;
  value?: string;
}

export interface MstrPushErrorOptions {
  hint?: string;
  cause?: unknown;
  location?: InputLocation;
}

const BRAND = Symbol.for('mstrpush.error');

export class MstrPushError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  readonly location: InputLocation | undefined;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, exitCode: ExitCode, message: string, options: MstrPushErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.location = options.location;
  }
}

/** Works across module copies and jest realms, where `instanceof` does not. */
export function isMstrPushError(value: unknown): value is MstrPushError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

export class UsageError extends MstrPushError {
  constructor(message: string, options?: MstrPushErrorOptions) {
    super('USAGE', EXIT_CODES.usage, message, options);
  }
}

export class ConfigError extends MstrPushError {
  constructor(message: string, options?: MstrPushErrorOptions & { code?: 'CONFIG_INVALID' | 'CONFIG_MISSING' }) {
    super(options?.code ?? 'CONFIG_INVALID', EXIT_CODES.config, message, options);
  }
}

export type InputErrorCode =
  | 'INPUT_NOT_FOUND'
  | 'INPUT_READ'
  | 'INPUT_PARSE'
  | 'INPUT_VALUE'
  | 'INPUT_SCHEMA'
  | 'INPUT_RECORD_TOO_LARGE'
  | 'INPUT_EMPTY';

/** A problem with an input file. The message is prefixed with `file:line` when a location is known. */
export class InputError extends MstrPushError {
  constructor(code: InputErrorCode, message: string, options?: MstrPushErrorOptions) {
    super(code, EXIT_CODES.input, withLocation(message, options?.location), options);
  }
}

function withLocation(message: string, location: InputLocation | undefined): string {
  if (!location?.file) return message;
  const where = location.line === undefined ? location.file : `${location.file}:${location.line}`;
  return `${where}: ${message}`;
}

export class AuthError extends MstrPushError {
  constructor(message: string, options?: MstrPushErrorOptions & { code?: 'AUTH_FAILED' | 'AUTH_MISSING' }) {
    super(options?.code ?? 'AUTH_FAILED', EXIT_CODES.auth, message, options);
  }
}

export type RemoteErrorCode =
  | 'HTTP_STATUS'
  | 'HTTP_NETWORK'
  | 'HTTP_TIMEOUT'
  | 'HTTP_BAD_RESPONSE'
  | 'MSTR_NOT_FOUND';

/** What a server said when it refused a request, kept so the one-line message can show all of it. */
export interface ServerErrorDetail {
  status?: number;
  method?: string;
  path?: string;
  code?: string;
  message?: string;
  ticketId?: string;
  iServerCode?: number | string;
}

export interface RemoteErrorOptions extends MstrPushErrorOptions {
  detail?: ServerErrorDetail;
  /** The socket-level error code (ECONNRESET, UND_ERR_SOCKET, ...) of a network failure. */
  networkCode?: string;
  /** The server may have acted on the request before it failed (a 5xx, a dropped connection). */
  mayHaveTakenEffect?: boolean;
}

export class RemoteError extends MstrPushError {
  readonly detail: ServerErrorDetail | undefined;
  readonly networkCode: string | undefined;
  readonly mayHaveTakenEffect: boolean;
  constructor(code: RemoteErrorCode, message: string, options?: RemoteErrorOptions) {
    super(code, EXIT_CODES.remote, message, options);
    this.detail = options?.detail;
    this.networkCode = options?.networkCode;
    this.mayHaveTakenEffect = options?.mayHaveTakenEffect ?? false;
  }
}

/**
 * The dataset was left short of what the command promised: data went up but was not published,
 * or the upload session was cancelled part way. The message always says what state the upload
 * session is in and the hint says what to run next.
 */
export class PartialUploadError extends MstrPushError {
  constructor(
    message: string,
    options?: MstrPushErrorOptions & { code?: 'UPLOAD_PARTIAL' | 'PUBLISH_FAILED' | 'PUBLISH_TIMEOUT' },
  ) {
    super(options?.code ?? 'UPLOAD_PARTIAL', EXIT_CODES.partial, message, options);
  }
}

export class InterruptedError extends MstrPushError {
  constructor(message = 'interrupted', options?: MstrPushErrorOptions) {
    super('INTERRUPTED', EXIT_CODES.interrupted, message, options);
  }
}

/** A broken invariant: a bug in mstrpush, not a user or server problem. */
export class InternalError extends MstrPushError {
  constructor(message: string, options?: MstrPushErrorOptions) {
    super('INTERNAL', EXIT_CODES.internal, message, options);
  }
}
