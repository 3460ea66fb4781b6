// In-memory state of the Power BI emulator: issued tokens, workspaces' datasets and their rows,
// and the per-dataset rate windows that answer 429 when a documented limit would be crossed.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PowerBiFaultPlan } from './faults.js';
import type { PowerBiFiredFault } from './faults.js';
import type { ResolvedPowerBiEmulatorOptions } from './options.js';
import { PbiApiError, entityNotFound, itemNotFound, tokenExpired } from './validate.js';
import type { Cell, ColumnDef, DatasetDef, DefaultMode, TableDef } from './validate.js';

export type Retention = 'None' | 'basicFIFO';

/** Which limit a 429 enforced. */
export type ThrottleReason = 'pending' | 'posts-per-minute' | 'rows-per-hour' | 'posts-per-hour';

interface IssuedToken {
  clientId: string;
  /** Real epoch milliseconds. */
  expiresAt: number;
  revoked: boolean;
}

export interface StoredTable {
  name: string;
  columns: ColumnDef[];
  rows: Cell[][];
  rowCount: number;
}

export interface StoredDataset {
  id: string;
  name: string;
  /** Workspace id, or null for My workspace. */
  groupId: string | null;
  retention: Retention;
  defaultMode: DefaultMode;
  createdDate: string;
  configuredBy: string;
  tables: StoredTable[];
  /** Accepted POST rows requests in the last emulated hour: arrival (emulated ms) and rows. */
  posts: Array<{ at: number; rows: number }>;
  pending: number;
}

/** One POST rows request as the emulator saw it, for tests that check pacing and resends. */
export interface PostRowsRecord {
  seq: number;
  datasetId: string;
  table: string;
  rows: number;
  /** sha256 of the request body: equal for a batch and its resend. */
  bodySha256: string;
  /** Real epoch milliseconds. */
  arrivedAt: number;
  answeredAt: number;
  status: number;
  retryAfterSeconds?: number;
  reason?: ThrottleReason;
  /** The fault rules that hit this request; `status` 0 means the connection was dropped unanswered. */
  fault?: string;
}

export interface EmulatorStats {
  tokensIssued: number;
  requests: number;
  postRowsAccepted: number;
  throttled: Record<ThrottleReason, number>;
  maxPendingSeen: number;
  rowsDeleted: number;
}

export interface TableInspection {
  name: string;
  columns: ColumnDef[];
  rowCount: number;
  /** sha256 hex over JSON.stringify(row) + "\n" per row, when rows are kept. */
  checksum?: string;
  rows?: Cell[][];
}

export interface DatasetInspection {
  id: string;
  name: string;
  groupId: string | null;
  defaultRetentionPolicy: Retention;
  defaultMode: DefaultMode;
  tables: TableInspection[];
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const LOG_LIMIT = 100_000;
const FIFO_KEEP = 200_000;
const FIFO_TRIGGER = 210_000;
const RETENTION_NONE_MAX_ROWS = 5_000_000;

export class PowerBiEmulatorState {
  readonly options: ResolvedPowerBiEmulatorOptions;
  readonly #tokens = new Map<string, IssuedToken>();
  readonly #datasets = new Map<string, StoredDataset>();
  readonly #log: PostRowsRecord[] = [];
  #seq = 0;
  readonly #startedAt = performance.now();
  /** The fault rules and the count of requests per operation they are matched against. */
  readonly faults: PowerBiFaultPlan;
  readonly stats: EmulatorStats = {
    tokensIssued: 0,
    requests: 0,
    postRowsAccepted: 0,
    throttled: { pending: 0, 'posts-per-minute': 0, 'rows-per-hour': 0, 'posts-per-hour': 0 },
    maxPendingSeen: 0,
    rowsDeleted: 0,
  };

  constructor(options: ResolvedPowerBiEmulatorOptions) {
    this.options = options;
    this.faults = new PowerBiFaultPlan(options.faults);
  }

  /** Every fault carried out so far, oldest first. */
  get faultLog(): readonly PowerBiFiredFault[] {
    return this.faults.log;
  }

  /** Emulated milliseconds since start: real time times the time scale. */
  now(): number {
    return (performance.now() - this.#startedAt) * this.options.timeScale;
  }

  // -------------------------------------------------------------------------------------------
  // Tokens

  issueToken(clientId: string, audience: string): { token: string; expiresIn: number } {
    const lifetime = this.options.tokenLifetimeSeconds;
    const issuedAt = Math.floor(Date.now() / 1000);
    const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    // Shaped like the service's JWTs (§1.1) so logs look familiar; the emulator looks tokens up, it does not verify signatures.
    const token = [
      encode({ typ: 'JWT', alg: 'HS256' }),
      encode({
        aud: audience,
        iss: `https://sts.windows.net/${this.options.tenant}/`,
        iat: issuedAt,
        nbf: issuedAt,
        exp: issuedAt + Math.ceil(lifetime),
        appid: clientId,
        tid: this.options.tenant,
        ver: '1.0',
        jti: randomUUID(),
      }),
      randomBytes(32).toString('base64url'),
    ].join('.');
    this.#tokens.set(token, { clientId, expiresAt: Date.now() + lifetime * 1000, revoked: false });
    this.stats.tokensIssued++;
    return { token, expiresIn: Math.max(1, Math.round(lifetime)) };
  }

  /** The app a bearer token belongs to; 401 when unknown, 403 TokenExpired when expired. */
  authenticate(authorization: string | undefined): string {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const token = match ? this.#tokens.get(match[1]!) : undefined;
    if (token === undefined) {
      throw new PbiApiError(401, { error: { code: 'Unauthorized', message: 'The access token is missing or not valid' } }, 'no valid token', {
        'WWW-Authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${this.options.tenant}/oauth2/authorize"`,
      });
    }
    if (token.revoked || Date.now() >= token.expiresAt) throw tokenExpired();
    return token.clientId;
  }

  /** Makes the token of this `Authorization` header expired, as if its lifetime had passed. */
  expireToken(authorization: string | undefined): void {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const token = match ? this.#tokens.get(match[1]!) : undefined;
    if (token !== undefined) token.revoked = true;
  }

  /** Makes every token issued so far expired, as if their lifetime had passed. */
  expireTokens(): void {
    for (const token of this.#tokens.values()) token.revoked = true;
  }

  // -------------------------------------------------------------------------------------------
  // Datasets

  checkWorkspace(groupId: string | null): void {
    if (groupId === null) {
      if (this.options.myWorkspace === 'deny') {
        throw new PbiApiError(
          403,
          { error: { code: 'Forbidden', message: 'Service principals cannot use My workspace; use /groups/{groupId}' } },
          'My workspace is not available to service principals',
        );
      }
      return;
    }
    if (!this.options.workspaces.some((w) => w.id.toLowerCase() === groupId.toLowerCase())) throw entityNotFound();
  }

  createDataset(groupId: string | null, definition: DatasetDef, retention: Retention, clientId: string): StoredDataset {
    const dataset: StoredDataset = {
      id: randomUUID(),
      name: definition.name,
      groupId,
      retention,
      defaultMode: definition.defaultMode,
      createdDate: new Date().toISOString(),
      configuredBy: clientId,
      tables: definition.tables.map((t) => ({ name: t.name, columns: t.columns.map((c) => ({ ...c })), rows: [], rowCount: 0 })),
      posts: [],
      pending: 0,
    };
    this.#datasets.set(dataset.id, dataset);
    return dataset;
  }

  listDatasets(groupId: string | null): StoredDataset[] {
    return [...this.#datasets.values()].filter((d) => sameGroup(d.groupId, groupId));
  }

  /** A dataset of this workspace; 404 PowerBIEntityNotFound otherwise. */
  getDataset(groupId: string | null, datasetId: string): StoredDataset {
    const dataset = this.#datasets.get(datasetId.toLowerCase());
    if (dataset === undefined || !sameGroup(dataset.groupId, groupId)) throw entityNotFound();
    return dataset;
  }

  deleteDataset(dataset: StoredDataset): void {
    this.#datasets.delete(dataset.id);
  }

  /** Table names in paths are matched exactly (case sensitivity is UNCONFIRMED; exact is stricter). */
  getTable(dataset: StoredDataset, name: string): StoredTable {
    const table = dataset.tables.find((t) => t.name === name);
    if (table === undefined) throw itemNotFound(`Table '${name}' not found in dataset '${dataset.id}'`);
    return table;
  }

  /** Put Table: the new columns replace the old; values of columns that stay with the same type are kept. */
  replaceTableSchema(table: StoredTable, definition: TableDef): void {
    const mapping = definition.columns.map((c) => table.columns.findIndex((o) => o.name === c.name && o.dataType === c.dataType));
    table.rows = table.rows.map((row) => mapping.map((from) => (from === -1 ? null : (row[from] ?? null))));
    table.columns = definition.columns.map((c) => ({ ...c }));
  }

  deleteRows(table: StoredTable): void {
    this.stats.rowsDeleted += table.rowCount;
    table.rows = [];
    table.rowCount = 0;
  }

  // -------------------------------------------------------------------------------------------
  // POST rows: pending slots, rate windows, storage

  /** Takes a pending slot for a POST rows request, or 429 when `maxPending` are already in flight. */
  enterPending(dataset: StoredDataset): void {
    if (dataset.pending >= this.options.maxPending) {
      throw this.#throttle('pending', 1, `There are already ${this.options.maxPending} pending POST rows requests for this dataset. Retry in 1 seconds.`);
    }
    dataset.pending++;
    if (dataset.pending > this.stats.maxPendingSeen) this.stats.maxPendingSeen = dataset.pending;
  }

  leavePending(dataset: StoredDataset): void {
    dataset.pending--;
  }

  /**
   * Checks the sliding windows for a request of `rows` rows into `table` arriving now, and records
   * it when it passes. Windows count accepted requests only, at their arrival.
   */
  admitRows(dataset: StoredDataset, table: StoredTable, rows: number): void {
    const now = this.now();
    const o = this.options;
    while (dataset.posts.length > 0 && dataset.posts[0]!.at <= now - HOUR_MS) dataset.posts.shift();
    const inMinute = dataset.posts.filter((p) => p.at > now - MINUTE_MS);
    if (inMinute.length >= o.postsPerMinute) {
      const freeAt = inMinute[inMinute.length - o.postsPerMinute]!.at + MINUTE_MS;
      const seconds = this.#realSeconds(freeAt - now);
      throw this.#throttle(
        'posts-per-minute',
        seconds,
        `You have exceeded the amount of requests allowed in the current time frame and further requests will fail. Retry in ${seconds} seconds.`,
      );
    }
    const rowsInHour = dataset.posts.reduce((sum, p) => sum + p.rows, 0);
    if (rowsInHour + rows > o.rowsPerHour) {
      let excess = rowsInHour + rows - o.rowsPerHour;
      let freeAt = now + HOUR_MS;
      for (const post of dataset.posts) {
        excess -= post.rows;
        if (excess <= 0) {
          freeAt = post.at + HOUR_MS;
          break;
        }
      }
      // The message the service was seen to send for this limit (granturing/spark-power-bi #1).
      throw this.#throttle('rows-per-hour', this.#realSeconds(freeAt - now), 'Maximum number of rows exceeded in time window. Please retry later');
    }
    if (table.rowCount >= o.bigTableRows && dataset.posts.length >= o.postsPerHourBigTable) {
      const freeAt = dataset.posts[dataset.posts.length - o.postsPerHourBigTable]!.at + HOUR_MS;
      const seconds = this.#realSeconds(freeAt - now);
      throw this.#throttle(
        'posts-per-hour',
        seconds,
        `You have exceeded the amount of requests allowed in the current time frame and further requests will fail. Retry in ${seconds} seconds.`,
      );
    }
    if (dataset.retention === 'None' && table.rowCount + rows > RETENTION_NONE_MAX_ROWS) {
      throw new PbiApiError(
        400,
        { error: { code: 'InvalidRequest', message: `Table '${table.name}' would hold more than ${RETENTION_NONE_MAX_ROWS} rows, the limit for retention policy None.` } },
        'table full',
      );
    }
    dataset.posts.push({ at: now, rows });
  }

  /** Appends accepted rows; basicFIFO keeps the newest 200,000 once a table passes 210,000. */
  appendRows(dataset: StoredDataset, table: StoredTable, rows: Cell[][]): void {
    this.stats.postRowsAccepted++;
    table.rowCount += rows.length;
    if (this.options.keepRows) for (const row of rows) table.rows.push(row);
    if (dataset.retention === 'basicFIFO' && table.rowCount > FIFO_TRIGGER) {
      if (this.options.keepRows) table.rows.splice(0, table.rows.length - FIFO_KEEP);
      table.rowCount = FIFO_KEEP;
    }
  }

  recordPostRows(record: Omit<PostRowsRecord, 'seq'>): void {
    this.#log.push({ seq: ++this.#seq, ...record });
    if (this.#log.length > LOG_LIMIT) this.#log.splice(0, this.#log.length - LOG_LIMIT);
  }

  /** POST rows requests in arrival order (the last 100,000). */
  postRowsLog(): PostRowsRecord[] {
    return this.#log.map((r) => ({ ...r }));
  }

  #realSeconds(emulatedMs: number): number {
    return Math.max(1, Math.ceil(emulatedMs / this.options.timeScale / 1000));
  }

  #throttle(reason: ThrottleReason, seconds: number, message: string): PbiApiError {
    this.stats.throttled[reason]++;
    const error = new PbiApiError(429, { message }, message, { 'Retry-After': String(seconds) });
    (error as PbiApiError & { reason?: ThrottleReason }).reason = reason;
    return error;
  }

  // -------------------------------------------------------------------------------------------
  // Inspection

  inspectDataset(datasetId: string): DatasetInspection | undefined {
    const dataset = this.#datasets.get(datasetId.toLowerCase());
    if (dataset === undefined) return undefined;
    return {
      id: dataset.id,
      name: dataset.name,
      groupId: dataset.groupId,
      defaultRetentionPolicy: dataset.retention,
      defaultMode: dataset.defaultMode,
      tables: dataset.tables.map((t) => ({
        name: t.name,
        columns: t.columns.map((c) => ({ ...c })),
        rowCount: t.rowCount,
        ...(this.options.keepRows ? { checksum: checksumOf(t.rows), rows: t.rows.map((r) => [...r]) } : {}),
      })),
    };
  }

  summarize(): Array<{ id: string; name: string; groupId: string | null; tables: Array<{ name: string; rowCount: number }> }> {
    return [...this.#datasets.values()].map((d) => ({ id: d.id, name: d.name, groupId: d.groupId, tables: d.tables.map((t) => ({ name: t.name, rowCount: t.rowCount })) }));
  }
}

function sameGroup(a: string | null, b: string | null): boolean {
  return a === null || b === null ? a === b : a.toLowerCase() === b.toLowerCase();
}

/** sha256 hex over `JSON.stringify(row) + "\n"` for every row in order. */
export function checksumOf(rows: readonly Cell[][]): string {
  const hash = createHash('sha256');
  for (const row of rows) hash.update(`${JSON.stringify(row)}\n`);
  return hash.digest('hex');
}
