import { DEFAULT_RETRY_POLICY, decideRetry, isTransient, parseRetryAfter, provablyNotApplied } from '../../src/http/retry.js';
import type { AttemptOutcome, RequestSafety } from '../../src/http/retry.js';

const policy = { retries: 3, baseDelayMs: 1000, maxDelayMs: 8000, deadlineMs: 60_000 };

function decide(outcome: AttemptOutcome, safety: RequestSafety, attempt = 1, elapsedMs = 0, random = 0.5) {
  return decideRetry({ outcome, safety, attempt, elapsedMs, policy, random: () => random, nowMs: Date.UTC(2026, 10, 22) });
}

describe('decideRetry', () => {
  it.each([
    [{ kind: 'status', status: 503 }, true],
    [{ kind: 'status', status: 500 }, true],
    [{ kind: 'status', status: 502 }, true],
    [{ kind: 'status', status: 504 }, true],
    [{ kind: 'status', status: 408 }, true],
    [{ kind: 'status', status: 429 }, true],
    [{ kind: 'status', status: 400 }, false],
    [{ kind: 'status', status: 401 }, false],
    [{ kind: 'status', status: 403 }, false],
    [{ kind: 'status', status: 404 }, false],
    [{ kind: 'network', code: 'ECONNRESET' }, true],
    [{ kind: 'network', code: 'ECONNREFUSED' }, true],
    [{ kind: 'network', code: 'UND_ERR_SOCKET' }, true],
    [{ kind: 'network', code: 'UND_ERR_HEADERS_TIMEOUT' }, true],
    [{ kind: 'network', code: 'CERT_HAS_EXPIRED' }, false],
    [{ kind: 'network', code: undefined }, false],
  ] as Array<[AttemptOutcome, boolean]>)('retries an idempotent request after %j: %s', (outcome, expected) => {
    expect(decide(outcome, 'idempotent').retry).toBe(expected);
    expect(isTransient(outcome)).toBe(expected);
  });

  it('retries a creating request only when the failure provably came before the server acted', () => {
    expect(decide({ kind: 'network', code: 'ECONNREFUSED' }, 'creates').retry).toBe(true);
    expect(decide({ kind: 'status', status: 429 }, 'creates').retry).toBe(true);
    expect(decide({ kind: 'status', status: 503 }, 'creates')).toEqual({ retry: false, reason: 'the request may have taken effect' });
    expect(decide({ kind: 'network', code: 'ECONNRESET' }, 'creates').retry).toBe(false);
    expect(provablyNotApplied({ kind: 'network', code: 'UND_ERR_SOCKET' })).toBe(false);
  });

  it('grows the delay exponentially with jitter between half and all of the ceiling, up to the maximum', () => {
    const delays = [1, 2, 3].map((attempt) => decide({ kind: 'status', status: 503 }, 'idempotent', attempt, 0, 0.5));
    expect(delays.map((d) => (d.retry ? d.delayMs : -1))).toEqual([750, 1500, 3000]);
    const low = decide({ kind: 'status', status: 503 }, 'idempotent', 1, 0, 0);
    const high = decide({ kind: 'status', status: 503 }, 'idempotent', 1, 0, 1);
    expect(low).toMatchObject({ retry: true, delayMs: 500 });
    expect(high).toMatchObject({ retry: true, delayMs: 1000 });
    const capped = decideRetry({ outcome: { kind: 'status', status: 503 }, safety: 'idempotent', attempt: 3, elapsedMs: 0, policy: { ...policy, maxDelayMs: 2500 }, random: () => 1, nowMs: 0 });
    expect(capped).toMatchObject({ retry: true, delayMs: 2500 });
  });

  it('waits exactly as long as Retry-After says, in seconds or as an HTTP date', () => {
    expect(decide({ kind: 'status', status: 429, retryAfter: '7' }, 'creates')).toMatchObject({ retry: true, delayMs: 7000 });
    const at = new Date(Date.UTC(2026, 10, 22) + 12_000).toUTCString();
    expect(decide({ kind: 'status', status: 503, retryAfter: at }, 'idempotent')).toMatchObject({ retry: true, delayMs: 12_000 });
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('gives up after the configured number of retries and before the deadline would pass', () => {
    expect(decide({ kind: 'status', status: 503 }, 'idempotent', 4)).toEqual({ retry: false, reason: 'gave up after 3 retries' });
    expect(decide({ kind: 'status', status: 503 }, 'idempotent', 1, 59_500)).toEqual({ retry: false, reason: 'the retry deadline would pass' });
  });

  it('defaults to five retries', () => {
    expect(DEFAULT_RETRY_POLICY.retries).toBe(5);
  });
});
