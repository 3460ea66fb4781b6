// Decides when the next POST rows request of a Power BI push may start so that the documented
// limits are never crossed, and estimates how long a whole push takes under them. Pure: every
// function takes the time as an argument, so tests and the estimate drive it with a fake clock.

/** The per-dataset limits of push datasets (push-datasets-limitations.md) and their time windows. */
export interface RateLimits {
  /** POST rows requests per `minuteMs` per dataset (120). */
  postsPerMinute: number;
  /** POST rows requests in flight per dataset (5). */
  maxPending: number;
  /** Rows added per `hourMs` per dataset (1,000,000). */
  rowsPerHour: number;
  /** Once the target table holds this many rows (250,000) ... */
  bigTableRows: number;
  /** ... at most this many POST rows requests per `hourMs` per dataset (120). */
  postsPerHourBigTable: number;
  minuteMs: number;
  hourMs: number;
}

export const POWERBI_RATE_LIMITS: Readonly<RateLimits> = Object.freeze({
  postsPerMinute: 120,
  maxPending: 5,
  rowsPerHour: 1_000_000,
  bigTableRows: 250_000,
  postsPerHourBigTable: 120,
  minuteMs: 60_000,
  hourMs: 3_600_000,
});

/** The limits with their windows shortened `timeScale` times, to match an emulator running that much faster. */
export function scaleLimits(limits: RateLimits, timeScale: number): RateLimits {
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError(`timeScale must be a positive number, not ${timeScale}`);
  return { ...limits, minuteMs: limits.minuteMs / timeScale, hourMs: limits.hourMs / timeScale };
}

export type WaitReason = 'pending' | 'posts-per-minute' | 'rows-per-hour' | 'posts-per-hour' | 'retry-after';

export type PaceDecision =
  /** Start the request now (then call `begin`). */
  | { kind: 'go' }
  /** Ask again at `until` (or earlier, when a request in flight finishes). */
  | { kind: 'wait'; until: number; reason: WaitReason }
  /** Nothing helps but a request in flight finishing. */
  | { kind: 'await-response'; reason: WaitReason };

export interface PacerOptions {
  /** basicFIFO tables never hold more than `fifoTrigger` rows, so the big-table limit never applies. */
  retention: 'none' | 'basicFIFO';
  fifoKeep?: number;
  fifoTrigger?: number;
  /** Rows the tables hold already, when known (a new or just emptied table holds 0). */
  tableRows?: Readonly<Record<string, number>>;
}

/** A request that has begun; hand it back to `finish`. */
export interface PostTicket {
  readonly table: string;
  readonly rows: number;
}

export type PostOutcome = 'accepted' | 'rejected' | 'unknown';

/** Accepted requests after which one more request may be in flight again, after a 429. */
const RECOVER_AFTER = 10;

interface Timed {
  at: number;
  rows: number;
}

/**
 * The pacing state of one dataset. History is kept per completed request at the time its answer
 * arrived, and requests in flight count as happening now: the server stamped each request no later
 * than its answer arrived here, so a request this side sees leave a window has left the server's
 * window too, whatever the latency. That makes the pacing safe without a guessed margin.
 */
export class RatePacer {
  readonly limits: Readonly<RateLimits>;
  readonly #fifo: { keep: number; trigger: number } | undefined;
  // Completed requests in answer order (so sorted by time), trimmed to the last hour.
  readonly #posts: Timed[] = [];
  #head = 0;
  #rowsInHour = 0;
  #pending = 0;
  #pendingRows = 0;
  readonly #pendingByTable = new Map<string, number>();
  readonly #tableRows = new Map<string, number>();
  #blockedUntil = -Infinity;
  // Requests allowed in flight: the documented maximum, halved by each 429 and grown back by one
  // after every RECOVER_AFTER accepted requests, so a service stricter than documented is met
  // without a herd of requests all retrying at the same moment.
  #allowedPending: number;
  #acceptedSinceThrottle = 0;

  constructor(limits: RateLimits, options: PacerOptions) {
    this.limits = { ...limits };
    this.#allowedPending = limits.maxPending;
    this.#fifo =
      options.retention === 'basicFIFO' ? { keep: options.fifoKeep ?? 200_000, trigger: options.fifoTrigger ?? 210_000 } : undefined;
    for (const [table, rows] of Object.entries(options.tableRows ?? {})) this.#tableRows.set(table, rows);
  }

  get pending(): number {
    return this.#pending;
  }

  /** Requests currently allowed in flight (at most limits.maxPending; fewer after a 429). */
  get allowedPending(): number {
    return this.#allowedPending;
  }

  /** Rows the table is known to hold after every accepted request (FIFO trimming applied). */
  tableRows(table: string): number {
    return this.#tableRows.get(table) ?? 0;
  }

  /** When a request of `rows` rows into `table` may start, seen at time `now`. */
  decide(now: number, table: string, rows: number): PaceDecision {
    const limits = this.limits;
    if (rows > limits.rowsPerHour) throw new RangeError(`a request of ${rows} rows can never fit under ${limits.rowsPerHour} rows per hour`);
    this.#prune(now);
    let until = -Infinity;
    let reason: WaitReason | undefined;
    const later = (at: number, why: WaitReason) => {
      if (at > now && at > until) {
        until = at;
        reason = why;
      }
    };
    later(this.#blockedUntil, 'retry-after');
    if (this.#pending >= this.#allowedPending) return { kind: 'await-response', reason: 'pending' };

    // Requests per minute: in flight count as now, so at most (limit - 1 - pending) completed ones
    // may remain in the window when this one starts.
    const perMinute = this.#needWindow(now, limits.minuteMs, limits.postsPerMinute - 1 - this.#pending);
    if (perMinute === 'blocked') return { kind: 'await-response', reason: 'posts-per-minute' };
    later(perMinute, 'posts-per-minute');

    const rowBudget = limits.rowsPerHour - this.#pendingRows - rows;
    if (rowBudget < 0) return { kind: 'await-response', reason: 'rows-per-hour' };
    if (this.#rowsInHour > rowBudget) {
      let excess = this.#rowsInHour - rowBudget;
      for (let i = this.#head; i < this.#posts.length; i++) {
        const post = this.#posts[i]!;
        excess -= post.rows;
        if (excess <= 0) {
          later(post.at + limits.hourMs, 'rows-per-hour');
          break;
        }
      }
    }

    if (this.#mayHoldBigTable(table)) {
      const perHour = this.#needWindow(now, limits.hourMs, limits.postsPerHourBigTable - 1 - this.#pending);
      if (perHour === 'blocked') return { kind: 'await-response', reason: 'posts-per-hour' };
      later(perHour, 'posts-per-hour');
    }
    return reason === undefined ? { kind: 'go' } : { kind: 'wait', until, reason };
  }

  /** Records that a request starts now. */
  begin(table: string, rows: number): PostTicket {
    this.#pending++;
    this.#pendingRows += rows;
    this.#pendingByTable.set(table, (this.#pendingByTable.get(table) ?? 0) + rows);
    return { table, rows };
  }

  /**
   * Records the answer to a request at time `now`. A rejected request (429) still counts as a
   * request, since the server may count it, but its rows were not added. An unknown outcome (the
   * connection failed) counts in full.
   */
  finish(ticket: PostTicket, now: number, outcome: PostOutcome): void {
    this.#pending--;
    this.#pendingRows -= ticket.rows;
    this.#pendingByTable.set(ticket.table, (this.#pendingByTable.get(ticket.table) ?? 0) - ticket.rows);
    const rows = outcome === 'rejected' ? 0 : ticket.rows;
    const last = this.#posts[this.#posts.length - 1];
    // Answers are recorded in order; a clock that stepped back must not unsort the history.
    this.#posts.push({ at: last !== undefined && last.at > now ? last.at : now, rows });
    this.#rowsInHour += rows;
    if (outcome === 'accepted' && this.#allowedPending < this.limits.maxPending && ++this.#acceptedSinceThrottle >= RECOVER_AFTER) {
      this.#allowedPending++;
      this.#acceptedSinceThrottle = 0;
    }
    if (rows > 0) {
      let held = this.tableRows(ticket.table) + rows;
      if (this.#fifo !== undefined && held > this.#fifo.trigger) held = this.#fifo.keep;
      this.#tableRows.set(ticket.table, held);
    }
  }

  /** The server answered 429 with Retry-After: nothing starts before `until`, and fewer requests run at once. */
  throttle(until: number): void {
    if (until > this.#blockedUntil) this.#blockedUntil = until;
    this.#allowedPending = Math.max(1, Math.floor(this.#allowedPending / 2));
    this.#acceptedSinceThrottle = 0;
  }

  /** Forgets a table's rows, after its rows were deleted. */
  resetTable(table: string): void {
    this.#tableRows.set(table, 0);
  }

  // Time from which at most `allowed` completed requests remain within the last `windowMs`.
  #needWindow(now: number, windowMs: number, allowed: number): number | 'blocked' {
    if (allowed < 0) return 'blocked';
    const from = this.#firstAfter(now - windowMs);
    const inWindow = this.#posts.length - from;
    if (inWindow <= allowed) return now;
    // The window is (t - windowMs, t]: the oldest surplus request leaves it at its time + windowMs.
    return this.#posts[from + (inWindow - allowed) - 1]!.at + windowMs;
  }

  // Index of the first completed request later than `time`.
  #firstAfter(time: number): number {
    let lo = this.#head;
    let hi = this.#posts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#posts[mid]!.at > time) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #mayHoldBigTable(table: string): boolean {
    let rows = this.tableRows(table) + (this.#pendingByTable.get(table) ?? 0);
    if (this.#fifo !== undefined) rows = Math.min(rows, this.#fifo.trigger);
    return rows >= this.limits.bigTableRows;
  }

  #prune(now: number): void {
    const cutoff = now - this.limits.hourMs;
    while (this.#head < this.#posts.length && this.#posts[this.#head]!.at <= cutoff) {
      this.#rowsInHour -= this.#posts[this.#head]!.rows;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#posts.length) {
      this.#posts.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

export interface PushEstimateInput {
  limits: RateLimits;
  retention: 'none' | 'basicFIFO';
  tableRows?: Readonly<Record<string, number>>;
  /** Every request of the push in order: its table and row count. */
  batches: ReadonlyArray<{ table: string; rows: number }>;
  /** Requests in flight at once (at most limits.maxPending). */
  concurrency: number;
  /** Assumed time from sending a request to its answer. */
  requestMs: number;
  start: number;
}

export interface PushEstimate {
  finishAt: number;
  durationMs: number;
  /** Time spent waiting for each limit in the simulated push. */
  waitedMs: Partial<Record<WaitReason, number>>;
  /** True when an hourly limit (rows per hour, or requests per hour of a big table) slows the push. */
  hourlyLimited: boolean;
}

/** Runs the push through a RatePacer on a simulated clock, every request taking `requestMs`. */
export function estimatePush(input: PushEstimateInput): PushEstimate {
  const pacer = new RatePacer(input.limits, { retention: input.retention, ...(input.tableRows ? { tableRows: input.tableRows } : {}) });
  const concurrency = Math.max(1, Math.min(input.concurrency, input.limits.maxPending));
  const inFlight: Array<{ end: number; ticket: PostTicket }> = [];
  const waitedMs: Partial<Record<WaitReason, number>> = {};
  let now = input.start;
  const advance = (to: number, reason: WaitReason) => {
    waitedMs[reason] = (waitedMs[reason] ?? 0) + (to - now);
    now = to;
  };
  const settle = () => {
    inFlight.sort((a, b) => a.end - b.end);
    while (inFlight.length > 0 && inFlight[0]!.end <= now) {
      const done = inFlight.shift()!;
      pacer.finish(done.ticket, done.end, 'accepted');
    }
  };
  for (const batch of input.batches) {
    for (;;) {
      settle();
      const firstEnd = inFlight[0]?.end;
      if (inFlight.length >= concurrency) {
        now = firstEnd!;
        continue;
      }
      const decision = pacer.decide(now, batch.table, batch.rows);
      if (decision.kind === 'go') {
        inFlight.push({ end: now + input.requestMs, ticket: pacer.begin(batch.table, batch.rows) });
        break;
      }
      if (decision.kind === 'wait') {
        advance(firstEnd !== undefined && firstEnd < decision.until ? firstEnd : decision.until, decision.reason);
      } else {
        if (firstEnd === undefined) throw new RangeError(`the pacer waits for a response while none is in flight (${decision.reason})`);
        advance(firstEnd, decision.reason);
      }
    }
  }
  const finishAt = Math.max(now, ...inFlight.map((f) => f.end));
  return {
    finishAt,
    durationMs: finishAt - input.start,
    waitedMs,
    hourlyLimited: (waitedMs['rows-per-hour'] ?? 0) > 0 || (waitedMs['posts-per-hour'] ?? 0) > 0,
  };
}
