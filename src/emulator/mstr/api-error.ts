// An HTTP error answer of the emulator: status plus the vendor's `{code, message}` pair
// (mstr-push-api.md §7). Thrown by validation and state code, turned into a response by the server.

export type MstrErrorCode =
  | 'ERR001'
  | 'ERR003'
  | 'ERR004'
  | 'ERR005'
  | 'ERR006'
  | 'ERR009'
  | 'ERR010'
  | 'ERR013'
  | 'ERR014'
  | 'ERR015'
  | 'ERR016';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: MstrErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function invalidInput(message: string): ApiError {
  return new ApiError(400, 'ERR006', message);
}

export function notFound(message: string): ApiError {
  return new ApiError(404, 'ERR004', message);
}

export function notSupported(message: string): ApiError {
  return new ApiError(400, 'ERR010', message);
}

export const SESSION_EXPIRED_MESSAGE = "The user's session has expired, please reauthenticate";

export function sessionExpired(): ApiError {
  return new ApiError(401, 'ERR009', SESSION_EXPIRED_MESSAGE);
}

/** Shows a client value in an error message without flooding it. */
export function preview(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
