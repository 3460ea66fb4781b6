// In-memory state of the MicroStrategy emulator: logins, datasets, upload sessions and the
// publish jobs that apply an upload session's rows per update policy (mstr-push-api.md §1, §3, §5).

import { createHash, randomBytes } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { NUMERIC_TYPES } from '../../schema/types.js';
import { ApiError, invalidInput, notFound, notSupported, sessionExpired } from './api-error.js';
import { FaultPlan } from './faults.js';
import type { FiredFault } from './faults.js';
import type { ResolvedMstrEmulatorOptions } from './options.js';
import type {
  Cell,
  ColumnDef,
  DatasetInspection,
  DatasetSummary,
  ModelDef,
  SessionTableSpec,
  TableDef,
  UploadSessionState,
} from './types.js';
import { canonicalChunkRows } from './chunk-canonical.js';
import { ScratchBuffers } from './scratch.js';
import { chunkBytes, decodeChunk, decodeChunkBytes } from './validate.js';
import type { ChunkData } from './validate.js';

/** A 32 upper-case hex object id, the shape of every id in the vendor's samples. */
export function newObjectId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** The 32 lower-case hex `ticketId` every error body carries. */
export function newTicketId(): string {
  return randomBytes(16).toString('hex');
}

const TOKEN_ALPHABET = '0123456789abcdefghijklmnopqrstuv';

/** 26 characters of [0-9a-v], the shape of the auth tokens in the vendor's samples. */
export function newAuthToken(): string {
  return Array.from(randomBytes(26), (b) => TOKEN_ALPHABET[b & 31]).join('');
}

/**
 * A row as canonical JSON: numeric cells as their exact token text, everything else as
 * JSON.stringify writes it. Table checksums are sha256 over `canonicalRowJson(row) + "\n"` per row.
 */
export function canonicalRowJson(row: readonly Cell[], columns: readonly ColumnDef[]): string {
  return canonicalRow(row, numericMask(columns));
}

const masks = new WeakMap<readonly ColumnDef[], boolean[]>();

function numericMask(columns: readonly ColumnDef[]): boolean[] {
  let mask = masks.get(columns);
  if (mask === undefined) {
    mask = columns.map((c) => NUMERIC_TYPES.has(c.dataType));
    masks.set(columns, mask);
  }
  return mask;
}

function canonicalRow(row: readonly Cell[], numeric: readonly boolean[]): string {
  let out = '[';
  for (let i = 0; i < row.length; i++) {
    const cell = row[i] ?? null;
    if (i > 0) out += ',';
    if (cell === null) out += 'null';
    else if (typeof cell === 'boolean') out += cell ? 'true' : 'false';
    else out += numeric[i] === true ? cell : JSON.stringify(cell);
  }
  return `${out}]`;
}

export interface AuthSession {
  readonly token: string;
  readonly jsessionId: string;
  readonly username: string;
  lastSeen: number;
}

interface TableData {
  /** Undefined when the emulator keeps no rows. */
  rows: Cell[][] | undefined;
  rowCount: number;
  hash: Hash;
}

// keepRows=false: chunks are folded into a running hash as soon as the indexes before them arrived.
interface StreamedTable {
  hash: Hash;
  nextIndex: number;
  rowCount: number;
  waiting: Map<number, { text: Buffer; rowCount: number }>;
  // The running hash before each folded index and its digest after: a retry of that index is the
  // same data exactly when it leads from one to the other, so no chunk is hashed twice.
  folded: Map<number, { before: Hash; after: string }>;
}

interface SessionTable {
  spec: SessionTableSpec;
  indexes: Set<number>;
  chunks: Map<number, Cell[][]>;
  stream: StreamedTable | undefined;
}

interface PublishJob {
  polls: number;
  committed: boolean;
  lastStatus: number | undefined;
}

export interface UploadSession {
  readonly id: string;
  readonly ownerToken: string;
  state: UploadSessionState;
  deleted: boolean;
  tables: Map<string, SessionTable>;
  job: PublishJob | undefined;
}

export interface Dataset {
  readonly id: string;
  readonly projectId: string;
  model: ModelDef;
  data: Map<string, TableData>;
  sessions: UploadSession[];
  publishes: number;
  /** Epoch milliseconds. */
  dateCreated: number;
  /** Epoch milliseconds of the last overwrite or applied publish. */
  dateModified: number;
}

/** A dataset as a folder listing shows it (type 3 = report definition, subtype 776 = super cube). */
export interface FolderEntry {
  id: string;
  name: string;
  type: 3;
  subtype: 776;
  dateCreated: string;
  dateModified: string;
}

export interface PublishStatusAnswer {
  status: number;
  message: string;
}

export type DefinitionField = 'tables' | 'columns' | 'attributes' | 'metrics';

/** Everything the emulator remembers. Exposed on the running emulator so tests can look inside. */
export class EmulatorState {
  private readonly auth = new Map<string, AuthSession>();
  private readonly datasets = new Map<string, Dataset>();
  /** The fault rules and the per-operation request counts they are matched against. */
  readonly faults: FaultPlan;
  /** Big buffers reused by chunk requests. */
  readonly scratch = new ScratchBuffers();

  constructor(
    readonly options: ResolvedMstrEmulatorOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.faults = new FaultPlan(options.faults);
  }

  /** Every injected fault carried out so far, oldest first. */
  get faultLog(): readonly FiredFault[] {
    return this.faults.log;
  }

  // -------------------------------------------------------------------------------------------
  // Logins

  /** Standard (1) and LDAP (16) logins check the same user table; other modes are refused. */
  login(username: string | undefined, password: string | undefined, loginMode: number): AuthSession {
    if (loginMode !== 1 && loginMode !== 16) {
      throw new ApiError(401, 'ERR003', `Login failed: loginMode ${loginMode} is not supported by the emulator (use 1 or 16)`);
    }
    const user = this.options.users.find((u) => u.username === username && u.password === password);
    if (user === undefined) throw new ApiError(401, 'ERR003', 'Login failed');
    const session: AuthSession = {
      token: newAuthToken(),
      jsessionId: newObjectId(),
      username: user.username,
      lastSeen: this.now(),
    };
    this.auth.set(session.token, session);
    return session;
  }

  /**
   * The token must name a live login and, when cookies are required, arrive with that login's
   * JSESSIONID (the docs say a token only works with its HTTP session, §1.2). Touches the login.
   */
  authenticate(token: string | undefined, jsessionId: string | undefined): AuthSession {
    this.expireIdleLogins();
    const session = token === undefined ? undefined : this.auth.get(token);
    if (session === undefined) throw sessionExpired();
    if (this.options.requireCookie && jsessionId !== session.jsessionId) throw sessionExpired();
    session.lastSeen = this.now();
    return session;
  }

  logout(session: AuthSession): void {
    this.endLogin(session);
  }

  /** Ends the login of a token as an idle timeout would; unknown tokens are ignored. */
  expireLogin(token: string | undefined): void {
    const session = token === undefined ? undefined : this.auth.get(token);
    if (session !== undefined) this.endLogin(session);
  }

  /** Ends logins idle past sessionIdleSeconds; run before every authenticated request. */
  expireIdleLogins(): void {
    const idle = this.options.sessionIdleSeconds;
    if (idle === undefined) return;
    const cutoff = this.now() - idle * 1000;
    for (const session of [...this.auth.values()]) {
      if (session.lastSeen < cutoff) this.endLogin(session);
    }
  }

  private endLogin(session: AuthSession): void {
    this.auth.delete(session.token);
    if (this.options.uploadSessionSurvivesRelogin) return;
    for (const dataset of this.datasets.values()) {
      for (const upload of dataset.sessions) {
        if (upload.ownerToken === session.token && upload.state === 'open') this.cancel(upload);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Datasets

  /**
   * A model named like a dataset in the same folder overwrites it in place (mstr-push-api.md §3.1:
   * the server seems to overwrite rather than fail; we keep the id so dashboards survive). The
   * overwritten dataset starts empty. With sameNameDataset=reject it is 409 ERR015 instead.
   */
  createDataset(projectId: string, model: ModelDef): { id: string; name: string } {
    const existing = [...this.datasets.values()].find(
      (d) => d.projectId === projectId && d.model.folderId === model.folderId && d.model.name === model.name,
    );
    if (existing === undefined) {
      const at = this.now();
      const dataset: Dataset = {
        id: newObjectId(),
        projectId,
        model,
        data: emptyData(model.tables, this.options.keepRows),
        sessions: [],
        publishes: 0,
        dateCreated: at,
        dateModified: at,
      };
      this.datasets.set(dataset.id, dataset);
      return { id: dataset.id, name: model.name };
    }
    if (this.options.sameNameDataset === 'reject') {
      throw new ApiError(409, 'ERR015', `A dataset named ${JSON.stringify(model.name)} already exists in folder ${model.folderId} (${existing.id})`);
    }
    this.finishPendingPublishes(existing);
    const open = existing.sessions.find((s) => s.state === 'open');
    if (open !== undefined) {
      throw invalidInput(`Dataset ${existing.id} has an open upload session ${open.id}; publish or delete it before overwriting the dataset`);
    }
    existing.model = model;
    existing.data = emptyData(model.tables, this.options.keepRows);
    existing.dateModified = this.now();
    return { id: existing.id, name: model.name };
  }

  /** Unknown ids and datasets of another project are both 404 ERR004. */
  getDataset(projectId: string, id: string): Dataset {
    const dataset = this.datasets.get(id);
    if (dataset === undefined || dataset.projectId !== projectId) throw notFound(`Dataset ${id} was not found in project ${projectId}`);
    return dataset;
  }

  definitionOf(dataset: Dataset, fields: ReadonlySet<DefinitionField>): Record<string, unknown> {
    const { model } = dataset;
    const availableObjects: Record<string, unknown> = {};
    if (fields.has('tables')) availableObjects['tables'] = model.tables.map((t) => ({ id: t.id, name: t.name }));
    if (fields.has('columns')) {
      availableObjects['columns'] = model.tables.flatMap((t) =>
        t.columns.map((c) => ({ tableName: t.name, columnName: c.name, dataType: c.dataType })),
      );
    }
    if (fields.has('attributes')) {
      availableObjects['attributes'] = model.attributes.map((a) => ({
        id: a.id,
        name: a.name,
        forms: a.forms.map((f) => ({ category: f.category, expressions: f.expressions.map((e) => ({ ...e })) })),
      }));
    }
    if (fields.has('metrics')) {
      availableObjects['metrics'] = model.metrics.map((m) => ({ id: m.id, name: m.name, expressions: m.expressions.map((e) => ({ ...e })) }));
    }
    return { id: dataset.id, name: model.name, result: { definition: { availableObjects } } };
  }

  /**
   * The datasets of one project in one folder, oldest first, as `GET /api/folders/{id}` lists
   * them; mstrio-py reads this to find a same-named dataset (mstr-push-api.md §8).
   */
  listFolder(projectId: string, folderId: string): FolderEntry[] {
    return [...this.datasets.values()]
      .filter((d) => d.projectId === projectId && d.model.folderId === folderId)
      .map((d) => ({
        id: d.id,
        name: d.model.name,
        type: 3,
        subtype: 776,
        dateCreated: formatDate(d.dateCreated),
        dateModified: formatDate(d.dateModified),
      }));
  }

  // -------------------------------------------------------------------------------------------
  // Upload sessions

  /** "You can't have concurrent upload sessions" (§3.2): a second open one on a dataset is 400 ERR006. */
  openUploadSession(login: AuthSession, dataset: Dataset, specs: SessionTableSpec[]): string {
    this.finishPendingPublishes(dataset);
    const open = dataset.sessions.find((s) => s.state === 'open');
    if (open !== undefined) {
      throw invalidInput(`Dataset ${dataset.id} already has an open upload session ${open.id}; publish or delete it first`);
    }
    const tables = new Map<string, SessionTable>();
    for (const spec of specs) {
      const data = dataset.data.get(spec.table.name);
      if (data === undefined) throw new ApiError(500, 'ERR001', 'table data missing');
      const stream: StreamedTable | undefined = this.options.keepRows
        ? undefined
        : {
            // The base is fixed now: nothing else can change this table while the session is open.
            hash: spec.policy === 'add' ? data.hash.copy() : createHash('sha256'),
            nextIndex: 1,
            rowCount: 0,
            waiting: new Map(),
            folded: new Map(),
          };
      tables.set(spec.table.name, { spec, indexes: new Set(), chunks: new Map(), stream });
    }
    const session: UploadSession = { id: newObjectId(), ownerToken: login.token, state: 'open', deleted: false, tables, job: undefined };
    dataset.sessions.push(session);
    return session.id;
  }

  /** Deleted sessions, and with uploadSessionSurvivesRelogin=false another login's sessions, are 404 ERR004. */
  getUploadSession(login: AuthSession, dataset: Dataset, id: string): UploadSession {
    const session = dataset.sessions.find((s) => s.id === id);
    const visible = session !== undefined && !session.deleted && (this.options.uploadSessionSurvivesRelogin || session.ownerToken === login.token);
    if (!visible) throw notFound(`Upload session ${id} was not found on dataset ${dataset.id}`);
    return session;
  }

  /** `data` may be scratch memory: it is not kept after this returns. */
  addChunk(dataset: Dataset, session: UploadSession, tableName: string, index: number, data: ChunkData): void {
    this.requireOpen(session);
    const table = session.tables.get(tableName);
    if (table === undefined) {
      const inDataset = dataset.model.tables.some((t) => t.name === tableName);
      throw notFound(
        inDataset
          ? `Table ${JSON.stringify(tableName)} is not part of upload session ${session.id}`
          : `Table ${JSON.stringify(tableName)} does not exist in dataset ${dataset.id}`,
      );
    }
    if (table.indexes.has(index) && this.options.duplicateChunkIndex === 'reject') {
      throw invalidInput(`table ${JSON.stringify(tableName)}, index ${index}: this chunk index was already uploaded in session ${session.id}`);
    }
    const context = { spec: table.spec, index, invalidDate: this.options.invalidDate };
    if (table.stream === undefined) {
      const rows: Cell[][] = [];
      decodeChunk(data, context, (row) => rows.push(row));
      table.chunks.set(index, rows);
    } else {
      const bytes = chunkBytes(data, context);
      const canonical = canonicalChunkRows(bytes, context, this.scratch);
      if (canonical === undefined) {
        // The byte-level check declined: decodeChunk rules, and throws the precise error if any.
        const columns = table.spec.table.columns;
        const lines: string[] = [];
        const rowCount = decodeChunkBytes(bytes, context, (row) => lines.push(canonicalRowJson(row, columns), '\n'));
        foldChunk(table.stream, tableName, index, Buffer.from(lines.join('')), rowCount);
      } else {
        try {
          foldChunk(table.stream, tableName, index, canonical.bytes, canonical.rowCount);
        } finally {
          canonical.release();
        }
      }
    }
    table.indexes.add(index);
  }

  /**
   * Each table's chunk indexes must be exactly 1..n (DECISIONS: any order, assembled by index).
   * The policies are applied when the job first reports status 1, never on fail or never.
   */
  publish(dataset: Dataset, session: UploadSession): void {
    this.requireOpen(session);
    for (const [name, table] of session.tables) {
      const indexes = [...table.indexes].sort((a, b) => a - b);
      const max = indexes[indexes.length - 1] ?? 0;
      if (max !== indexes.length) {
        const missing: number[] = [];
        for (let i = 1; i <= max && missing.length < 10; i++) if (!table.indexes.has(i)) missing.push(i);
        throw invalidInput(
          `table ${JSON.stringify(name)}: chunk indexes must be exactly 1..n without gaps; received ${describeIndexes(indexes)}, missing ${missing.join(', ')}${missing.length === 10 ? ', …' : ''}`,
        );
      }
    }
    session.state = 'published';
    session.job = { polls: 0, committed: false, lastStatus: undefined };
    if (this.options.publishPolls === 0 && this.options.publishOutcome === 'succeed') this.commit(dataset, session);
  }

  publishStatus(dataset: Dataset, session: UploadSession): PublishStatusAnswer {
    const job = session.job;
    if (session.state === 'open' || job === undefined) throw invalidInput(`Upload session ${session.id} has not been published`);
    if (session.state === 'cancelled') throw notFound(`Upload session ${session.id} was cancelled`);
    job.polls++;
    const answer = this.statusAfter(job);
    if (answer.status === 1 && !job.committed) this.commit(dataset, session);
    job.lastStatus = answer.status;
    return answer;
  }

  private statusAfter(job: PublishJob): PublishStatusAnswer {
    const { publishOutcome, publishPolls } = this.options;
    if (job.committed) return { status: 1, message: 'result ready' };
    if (publishOutcome === 'never' || job.polls <= publishPolls) return { status: 6, message: 'sql execution' };
    if (publishOutcome === 'fail') return { status: 3, message: 'Publish failed: the emulator was started with publishOutcome=fail' };
    return { status: 1, message: 'result ready' };
  }

  /** Cancels an open session or a publish that has not finished, discarding its data (§3.6). */
  deleteUploadSession(session: UploadSession): void {
    if (session.state === 'open' || (session.state === 'published' && session.job?.committed !== true)) this.cancel(session);
    session.deleted = true;
    releaseChunks(session);
  }

  private cancel(session: UploadSession): void {
    session.state = 'cancelled';
    releaseChunks(session);
  }

  private requireOpen(session: UploadSession): void {
    if (session.state === 'published') throw invalidInput(`Upload session ${session.id} has already been published`);
    if (session.state === 'cancelled') throw notFound(`Upload session ${session.id} was cancelled`);
  }

  /** A publish the client stopped polling still finishes in the background on a real server. */
  private finishPendingPublishes(dataset: Dataset): void {
    if (this.options.publishOutcome !== 'succeed') return;
    for (const session of dataset.sessions) {
      if (session.state === 'published' && session.job?.committed === false) this.commit(dataset, session);
    }
  }

  private commit(dataset: Dataset, session: UploadSession): void {
    const job = session.job;
    if (job === undefined || job.committed) return;
    for (const [name, table] of session.tables) {
      const data = dataset.data.get(name);
      if (data === undefined) throw new ApiError(500, 'ERR001', 'table data missing');
      applyTable(data, table);
    }
    job.committed = true;
    dataset.publishes++;
    dataset.dateModified = this.now();
    releaseChunks(session);
  }

  // -------------------------------------------------------------------------------------------
  // Inspection (not part of the vendor API)

  listDatasets(): DatasetSummary[] {
    return [...this.datasets.values()].map((d) => ({
      id: d.id,
      name: d.model.name,
      tables: d.model.tables.map((t) => ({ name: t.name, rowCount: d.data.get(t.name)?.rowCount ?? 0 })),
    }));
  }

  /** Rows, checksums and upload sessions of one dataset; undefined for an unknown id. */
  inspectDataset(id: string): DatasetInspection | undefined {
    const dataset = this.datasets.get(id);
    if (dataset === undefined) return undefined;
    return {
      id: dataset.id,
      name: dataset.model.name,
      projectId: dataset.projectId,
      folderId: dataset.model.folderId,
      tables: dataset.model.tables.map((t) => {
        const data = dataset.data.get(t.name);
        return {
          name: t.name,
          columns: t.columns.map((c) => ({ ...c })),
          rowCount: data?.rowCount ?? 0,
          checksum: data === undefined ? '' : data.hash.copy().digest('hex'),
          ...(data?.rows === undefined ? {} : { rows: data.rows.map((r) => [...r]) }),
        };
      }),
      uploadSessions: dataset.sessions.map((s) => ({
        id: s.id,
        state: s.state,
        deleted: s.deleted,
        chunks: Object.fromEntries([...s.tables].map(([name, t]) => [name, [...t.indexes].sort((a, b) => a - b)])),
        ...(s.job?.lastStatus === undefined ? {} : { publishStatus: s.job.lastStatus }),
      })),
      publishes: dataset.publishes,
    };
  }

  /** Finds a dataset id by name, for tests and demos. */
  findDatasetId(name: string): string | undefined {
    return [...this.datasets.values()].find((d) => d.model.name === name)?.id;
  }
}

// The shape of the vendor's timestamps, e.g. 2021-06-14T09:48:18.000+0000.
function formatDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

function emptyData(tables: TableDef[], keepRows: boolean): Map<string, TableData> {
  return new Map(tables.map((t) => [t.name, { rows: keepRows ? [] : undefined, rowCount: 0, hash: createHash('sha256') }]));
}

function describeIndexes(indexes: number[]): string {
  const shown = indexes.slice(0, 10).join(', ');
  return indexes.length > 10 ? `${shown}, … (${indexes.length} chunks)` : shown;
}

// A chunk that arrives after an index already folded into the hash cannot be replaced any more;
// an identical retry is harmless, anything else is refused (only with keepRows=false).
function foldChunk(stream: StreamedTable, tableName: string, index: number, text: Buffer, rowCount: number): void {
  if (index < stream.nextIndex) {
    const folded = stream.folded.get(index);
    if (folded !== undefined && folded.before.copy().update(text).digest('hex') === folded.after) return;
    throw notSupported(
      `table ${JSON.stringify(tableName)}, index ${index}: with keepRows=false a chunk cannot be replaced by different data once later chunks were folded in`,
    );
  }
  if (index > stream.nextIndex) {
    // `text` may be scratch memory that is reused after this request.
    stream.waiting.set(index, { text: Buffer.from(text), rowCount });
    return;
  }
  foldNext(stream, text, rowCount);
  for (let next = stream.waiting.get(stream.nextIndex); next !== undefined; next = stream.waiting.get(stream.nextIndex)) {
    stream.waiting.delete(stream.nextIndex);
    foldNext(stream, next.text, next.rowCount);
  }
}

function foldNext(stream: StreamedTable, text: Buffer, rowCount: number): void {
  const before = stream.hash.copy();
  stream.hash.update(text);
  stream.folded.set(stream.nextIndex, { before, after: stream.hash.copy().digest('hex') });
  stream.rowCount += rowCount;
  stream.nextIndex++;
}

function releaseChunks(session: UploadSession): void {
  for (const table of session.tables.values()) {
    table.chunks.clear();
    table.stream?.waiting.clear();
    table.stream?.folded.clear();
  }
}

// add appends; replace swaps the table's rows for the session's (zero chunks truncates); update
// overwrites the carried metric columns of every existing row whose attribute columns (the key,
// §5) match; upsert also appends the rows that matched nothing.
function applyTable(data: TableData, table: SessionTable): void {
  const { policy, table: def } = table.spec;
  const columns = def.columns;
  if (table.stream !== undefined) {
    data.hash = table.stream.hash;
    data.rowCount = policy === 'add' ? data.rowCount + table.stream.rowCount : table.stream.rowCount;
    return;
  }
  const incoming: Cell[][] = [];
  for (let i = 1; i <= table.indexes.size; i++) {
    for (const row of table.chunks.get(i) ?? []) incoming.push(row);
  }
  const existing = data.rows ?? [];
  if (policy === 'add') {
    for (const row of incoming) {
      existing.push(row);
      data.hash.update(`${canonicalRowJson(row, columns)}\n`);
    }
    data.rows = existing;
    data.rowCount = existing.length;
    return;
  }
  if (policy === 'replace') {
    data.rows = incoming;
  } else {
    const keyPositions = columns.flatMap((c, p) => (c.role === 'attribute' ? [p] : []));
    const carried = table.spec.columnPositions.filter((p) => !keyPositions.includes(p));
    const keyOf = (row: Cell[]): string => JSON.stringify(keyPositions.map((p) => row[p] ?? null));
    const byKey = new Map<string, number[]>();
    existing.forEach((row, i) => {
      const key = keyOf(row);
      const list = byKey.get(key);
      if (list === undefined) byKey.set(key, [i]);
      else list.push(i);
    });
    for (const row of incoming) {
      const key = keyOf(row);
      const matches = byKey.get(key);
      if (matches !== undefined) {
        for (const i of matches) {
          const target = existing[i];
          if (target !== undefined) for (const p of carried) target[p] = row[p] ?? null;
        }
      } else if (policy === 'upsert') {
        existing.push([...row]);
        byKey.set(key, [existing.length - 1]);
      }
    }
    data.rows = existing;
  }
  data.rowCount = data.rows.length;
  data.hash = createHash('sha256');
  for (const row of data.rows) data.hash.update(`${canonicalRowJson(row, columns)}\n`);
}
