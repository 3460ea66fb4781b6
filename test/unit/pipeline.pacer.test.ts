import { describe, expect, it } from '@jest/globals';
import { POWERBI_RATE_LIMITS, RatePacer, estimatePush, scaleLimits } from '../../src/pipeline/pacer.js';
import type { RateLimits } from '../../src/pipeline/pacer.js';

const LIMITS: RateLimits = { ...POWERBI_RATE_LIMITS };
const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Sends `count` requests of `rows` rows, each answered `latency` ms after it starts, one at a time from `start`. */
function completed(pacer: RatePacer, count: number, rows: number, start: number, step: number, table = 't'): number {
  let now = start;
  for (let i = 0; i < count; i++) {
    const ticket = pacer.begin(table, rows);
    pacer.finish(ticket, now, 'accepted');
    now += step;
  }
  return now - step;
}

describe('RatePacer', () => {
  it('lets the first request go at once', () => {
    const pacer = new RatePacer(LIMITS, { retention: 'none' });
    expect(pacer.decide(0, 't', 10_000)).toEqual({ kind: 'go' });
  });

  it('holds the 121st request of a minute until the first one has left the window', () => {
    const pacer = new RatePacer(LIMITS, { retention: 'none' });
    completed(pacer, 119, 1, 1000, 100);
    expect(pacer.decide(13_000, 't', 1)).toEqual({ kind: 'go' });
    pacer.finish(pacer.begin('t', 1), 13_000, 'accepted');
    // 120 answers at 1000, 1100, ..., 12800, 13000: the next may start once 1000 is 60 s old.
    expect(pacer.decide(13_001, 't', 1)).toEqual({ kind: 'wait', until: 1000 + MINUTE, reason: 'posts-per-minute' });
    expect(pacer.decide(1000 + MINUTE, 't', 1)).toEqual({ kind: 'go' });
  });

  it('counts requests in flight against the per-minute limit as if they happened now', () => {
    const pacer = new RatePacer(LIMITS, { retention: 'none' });
    completed(pacer, 118, 1, 0, 10);
    pacer.begin('t', 1);
    pacer.begin('t', 1);
    // 118 answered + 2 in flight = 120: the oldest answer (at 0) must leave first.
    expect(pacer.decide(5000, 't', 1)).toEqual({ kind: 'wait', until: MINUTE, reason: 'posts-per-minute' });
  });

  it('waits for an answer when the requests in flight reach the pending limit', () => {
    const pacer = new RatePacer(LIMITS, { retention: 'none' });
    for (let i = 0; i < 5; i++) pacer.begin('t', 10);
    expect(pacer.decide(0, 't', 10)).toEqual({ kind: 'await-response', reason: 'pending' });
    expect(pacer.pending).toBe(5);
  });

  it('holds a request that would pass 1,000,000 rows in an hour until enough rows have aged out', () => {
    const pacer = new RatePacer(LIMITS, { retention: 'none' });
    // 100 requests of 10,000 rows answered one a second from 0 to 99 s: 1,000,000 rows.
    completed(pacer, 100, 10_000, 0, 1000);
    expect(pacer.decide(100_000, 't', 10_000)).toEqual({ kind: 'wait', until: HOUR, reason: 'rows-per-hour' });
    expect(pacer.decide(HOUR, 't', 10_000)).toEqual({ kind: 'go' });
  });

  it('waits only for as many old rows as the new request needs', () => {
    const pacer = new RatePacer(LIMITS, { retention: 'none' });
    completed(pacer, 99, 10_000, 0, 1000);
    pacer.finish(pacer.begin('t', 5000), 99_000, 'accepted');
    // 995,000 rows in the hour: 5,000 more fit now, 10,000 more only once the first answer (at 0) leaves.
    expect(pacer.decide(100_000, 't', 5000)).toEqual({ kind: 'go' });
    expect(pacer.decide(100_000, 't', 10_000)).toEqual({ kind: 'wait', until: HOUR, reason: 'rows-per-hour' });
  });

  it('applies 120 requests per hour once the table holds 250,000 rows', () => {
    const pacer = new RatePacer(LIMITS, { retention: 'none' });
    // 120 requests over 60 minutes: 25 of 10,000 rows then 95 of 1 row.
    completed(pacer, 25, 10_000, 0, 30_000);
    completed(pacer, 95, 1, 25 * 30_000, 30_000);
    expect(pacer.tableRows('t')).toBe(250_095);
    // The last answer came at 119 × 30 s; the first (at 0) must leave the hour before the next request.
    expect(pacer.decide(3_580_000, 't', 1)).toEqual({ kind: 'wait', until: HOUR, reason: 'posts-per-hour' });
    // Another table of the same dataset is small, so the hourly request limit does not apply to it.
    expect(pacer.decide(3_580_000, 'small', 1)).toEqual({ kind: 'go' });
  });

  it('counts rows in flight towards a table reaching 250,000 rows', () => {
    const pacer = new RatePacer({ ...LIMITS, postsPerHourBigTable: 2 }, { retention: 'none', tableRows: { t: 245_000 } });
    completed(pacer, 2, 1, 0, 1000);
    expect(pacer.decide(2000, 't', 1)).toEqual({ kind: 'go' });
    pacer.begin('t', 5000);
    // 245,002 held + 5,000 in flight: big. With one request in flight, both answers must leave the hour.
    expect(pacer.decide(2000, 't', 1)).toEqual({ kind: 'wait', until: 1000 + HOUR, reason: 'posts-per-hour' });
    pacer.begin('t', 1);
    expect(pacer.decide(2000, 't', 1)).toEqual({ kind: 'await-response', reason: 'posts-per-hour' });
  });

  it('never applies the big-table limit under basicFIFO, whose tables stay under 210,000 rows', () => {
    const pacer = new RatePacer({ ...LIMITS, postsPerHourBigTable: 1 }, { retention: 'basicFIFO' });
    completed(pacer, 30, 10_000, 0, 60_000);
    expect(pacer.tableRows('t')).toBe(200_000);
    expect(pacer.decide(30 * 60_000, 't', 10_000)).toEqual({ kind: 'go' });
  });

  it('keeps every request back until the Retry-After of a 429 has passed', () => {
    const pacer = new RatePacer(LIMITS, { retention: 'none' });
    const ticket = pacer.begin('t', 10);
    pacer.finish(ticket, 1000, 'rejected');
    pacer.throttle(31_000);
    expect(pacer.decide(1000, 't', 10)).toEqual({ kind: 'wait', until: 31_000, reason: 'retry-after' });
    expect(pacer.decide(31_000, 't', 10)).toEqual({ kind: 'go' });
  });

  it('halves the requests in flight after each 429 and grows them back after ten accepted ones', () => {
    const pacer = new RatePacer(LIMITS, { retention: 'none' });
    pacer.throttle(0);
    expect(pacer.allowedPending).toBe(2);
    pacer.throttle(0);
    pacer.throttle(0);
    expect(pacer.allowedPending).toBe(1);
    const first = pacer.begin('t', 1);
    expect(pacer.decide(10, 't', 1)).toEqual({ kind: 'await-response', reason: 'pending' });
    pacer.finish(first, 10, 'accepted');
    completed(pacer, 8, 1, 11, 1);
    expect(pacer.allowedPending).toBe(1);
    completed(pacer, 1, 1, 20, 1);
    expect(pacer.allowedPending).toBe(2);
  });

  it('counts a rejected request as a request but not its rows', () => {
    const pacer = new RatePacer({ ...LIMITS, postsPerMinute: 2, rowsPerHour: 15 }, { retention: 'none' });
    pacer.finish(pacer.begin('t', 10), 0, 'rejected');
    expect(pacer.tableRows('t')).toBe(0);
    // Rows: 0 of 15 used, so 10 fit; requests: 1 of 2 used.
    expect(pacer.decide(1, 't', 10)).toEqual({ kind: 'go' });
    pacer.finish(pacer.begin('t', 10), 1, 'accepted');
    expect(pacer.decide(2, 't', 10)).toEqual({ kind: 'wait', until: HOUR + 1, reason: 'rows-per-hour' });
  });

  it('names the latest of several limits that hold a request back', () => {
    const pacer = new RatePacer({ ...LIMITS, postsPerMinute: 1, rowsPerHour: 10 }, { retention: 'none' });
    pacer.finish(pacer.begin('t', 10), 0, 'accepted');
    expect(pacer.decide(1, 't', 10)).toEqual({ kind: 'wait', until: HOUR, reason: 'rows-per-hour' });
  });

  it('forgets a table’s rows after they were deleted', () => {
    const pacer = new RatePacer(LIMITS, { retention: 'none', tableRows: { t: 300_000 } });
    pacer.resetTable('t');
    expect(pacer.tableRows('t')).toBe(0);
  });
});

describe('scaleLimits', () => {
  it('shortens the windows by the time scale and keeps the counts', () => {
    expect(scaleLimits(LIMITS, 60)).toEqual({ ...LIMITS, minuteMs: 1000, hourMs: 60_000 });
  });

  it('refuses a time scale that is not positive', () => {
    expect(() => scaleLimits(LIMITS, 0)).toThrow(RangeError);
  });
});

describe('estimatePush', () => {
  const batches = (count: number, rows: number) => Array.from({ length: count }, () => ({ table: 't', rows }));

  it('finishes a small push in about the time of its requests', () => {
    const estimate = estimatePush({ limits: LIMITS, retention: 'none', batches: batches(10, 10_000), concurrency: 5, requestMs: 1000, start: 0 });
    expect(estimate.durationMs).toBe(2000);
    expect(estimate.hourlyLimited).toBe(false);
  });

  it('stretches 2,500,000 rows over more than two hours under the hourly row cap', () => {
    const estimate = estimatePush({ limits: LIMITS, retention: 'none', batches: batches(250, 10_000), concurrency: 5, requestMs: 1000, start: 0 });
    expect(estimate.hourlyLimited).toBe(true);
    // The last 500,000 rows may start once the first 1,000,000 have aged out twice over.
    expect(estimate.durationMs).toBeGreaterThan(2 * HOUR);
    expect(estimate.durationMs).toBeLessThan(2 * HOUR + 5 * MINUTE);
    expect(estimate.finishAt).toBe(estimate.durationMs);
  });

  it('reports per-minute pacing without calling the push hourly-limited', () => {
    const estimate = estimatePush({ limits: LIMITS, retention: 'basicFIFO', batches: batches(300, 100), concurrency: 5, requestMs: 100, start: 0 });
    expect(estimate.waitedMs['posts-per-minute']).toBeGreaterThan(0);
    expect(estimate.hourlyLimited).toBe(false);
    // 300 requests at 120 per minute: the 241st starts after two minutes.
    expect(estimate.durationMs).toBeGreaterThanOrEqual(2 * MINUTE);
    expect(estimate.durationMs).toBeLessThan(3 * MINUTE);
  });
});
