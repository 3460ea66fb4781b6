// Decides whether a failed request is tried again and after how long. Pure: the caller passes
// the clock's reading and the random source, so every decision is testable.

/** How a request may be repeated without changing what the server ends up with. */
export type RequestSafety =
  /** Repeating is harmless: reads, chunk PUTs (same index overwrites), DELETE, login. */
  | 'idempotent'
  /** Repeating could create a second object: only when the first attempt provably did not arrive. */
  | 'creates';

export type AttemptOutcome =
  | { kind: 'status'; status: number; retryAfter?: string | undefined }
  | { kind: 'network'; code: string | undefined };

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry may start later than this many ms after the first attempt. */
  deadlineMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  deadlineMs: 15 * 60_000,
};

export type RetryDecision =
  | { retry: true; delayMs: number; reason: string }
  | { retry: false; reason: string };

// Connection-phase failures: the request never reached the server's application.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
// Failures after the request may have been (partly) received.
const IN_FLIGHT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Whether this failure is one a retry can cure at all, regardless of request safety. */
export function isTransient(outcome: AttemptOutcome): boolean {
  if (outcome.kind === 'status') return TRANSIENT_STATUSES.has(outcome.status);
  return outcome.code !== undefined && (NOT_SENT_CODES.has(outcome.code) || IN_FLIGHT_CODES.has(outcome.code));
}

/**
 * Whether the server provably did not act on the request: it could not be reached, or it said
 * 429 (throttling answers before any work is done). A 5xx or a dropped connection may come after
 * the server stored the request.
 */
export function provablyNotApplied(outcome: AttemptOutcome): boolean {
  if (outcome.kind === 'status') return outcome.status === 429;
  return outcome.code !== undefined && NOT_SENT_CODES.has(outcome.code);
}

export function decideRetry(input: {
  outcome: AttemptOutcome;
  safety: RequestSafety;
  /** 1 for the first failed attempt. */
  attempt: number;
  elapsedMs: number;
  policy: RetryPolicy;
  random: () => number;
  /** Wall-clock now, for an HTTP-date Retry-After. */
  nowMs: number;
}): RetryDecision {
  const { outcome, policy } = input;
  if (!isTransient(outcome)) return { retry: false, reason: 'not a transient failure' };
  if (input.safety === 'creates' && !provablyNotApplied(outcome)) {
    return { retry: false, reason: 'the request may have taken effect' };
  }
  if (input.attempt > policy.retries) return { retry: false, reason: `gave up after ${policy.retries} retries` };

  // Full jitter spreads the retries of many clients hitting the same server.
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (input.attempt - 1));
  let delayMs = Math.round(ceiling * (0.5 + input.random() / 2));
  if (outcome.kind === 'status' && outcome.retryAfter !== undefined) {
    const told = parseRetryAfter(outcome.retryAfter, input.nowMs);
    if (told !== undefined) delayMs = told;
  }
  if (input.elapsedMs + delayMs > policy.deadlineMs) {
    return { retry: false, reason: 'the retry deadline would pass' };
  }
  return { retry: true, delayMs, reason: describeOutcome(outcome) };
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export function describeOutcome(outcome: AttemptOutcome): string {
  return outcome.kind === 'status' ? `HTTP ${outcome.status}` : (outcome.code ?? 'network error');
}
