// The Power BI run journal: which rows of each file a dataset holds for sure and which are on their
// way. A batch is written down before it is sent and again when the service confirms it, so after
// any stop (a failure, Ctrl-C, kill -9) --resume knows exactly what may be in the table.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { formatRowRanges, mergeConfirmed } from '../pipeline/powerbi-load.js';
import type { PowerBiLoadJournal, PowerBiResume, RowRange } from '../pipeline/powerbi-load.js';
import { removeJournalFile, writeFileAtomically } from './journal.js';
import type { FileFingerprint } from './journal.js';

export const POWERBI_JOURNAL_VERSION = 1;

/** A batch past the confirmed prefix: on its way (answer unknown) or confirmed after a gap. */
export interface PowerBiJournalBatch extends RowRange {
  state: 'sent' | 'confirmed';
}

export interface PowerBiJournalTable {
  table: string;
  file: string;
  fingerprint: FileFingerprint;
  /** `empty`: the table's rows are to be deleted before loading (replace, or a reload under way). */
  phase: 'empty' | 'loading' | 'complete';
  /** Rows 1..confirmedThrough of the file are in the table for sure. */
  confirmedThrough: number;
  beyond: PowerBiJournalBatch[];
  /** Requests and bytes of JSON the service accepted. */
  accepted: number;
  bytes: number;
}

export interface PowerBiJournal {
  version: typeof POWERBI_JOURNAL_VERSION;
  target: 'powerbi';
  key: string;
  command: 'create' | 'append';
  /** The command line as the user can run it again, for messages. */
  commandLine: string;
  apiUrl: string;
  group: string | null;
  datasetId: string | undefined;
  datasetName: string | undefined;
  /** create: ids of same-named datasets that existed before the create request, to recognise the one it made. */
  knownIds: string[] | undefined;
  policy: 'create' | 'add' | 'replace';
  tables: PowerBiJournalTable[];
  updatedAt: string;
}

/** What identifies "the same command" on Power BI: service, workspace, dataset and inputs. */
export interface PowerBiRunIdentity {
  command: 'create' | 'append';
  apiUrl: string;
  group: string | undefined;
  /** The dataset name (create) or id (append). */
  dataset: string;
  inputs: ReadonlyArray<{ file: string; table: string }>;
}

/**
 * The journal's file name. The policy is left out on purpose: a `--policy replace` run must see
 * an unfinished `add` run of the same files, because it is the way out of one.
 */
export function powerBiJournalKey(identity: PowerBiRunIdentity): string {
  const canonical = JSON.stringify({
    target: 'powerbi',
    command: identity.command,
    apiUrl: identity.apiUrl.replace(/\/+$/, ''),
    group: identity.group?.toLowerCase() ?? null,
    dataset: identity.dataset,
    inputs: identity.inputs.map((i) => [path.resolve(i.file), i.table]),
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/** Reads and writes one run's journal file in the state directory. */
export class PowerBiJournalStore {
  readonly file: string;

  constructor(stateDir: string, key: string) {
    this.file = path.join(stateDir, 'runs', `powerbi-${key}.json`);
  }

  async read(): Promise<PowerBiJournal | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let journal: PowerBiJournal;
    try {
      journal = JSON.parse(text) as PowerBiJournal;
    } catch {
      throw damaged(this.file);
    }
    if (journal?.target !== 'powerbi' || journal.version !== POWERBI_JOURNAL_VERSION) return undefined;
    if (!Array.isArray(journal.tables) || journal.tables.some((t) => !Array.isArray(t?.beyond) || !Number.isInteger(t.confirmedThrough))) throw damaged(this.file);
    return journal;
  }

  async write(text: string): Promise<void> {
    await writeFileAtomically(this.file, text);
  }

  async remove(): Promise<void> {
    await removeJournalFile(this.file);
  }
}

function damaged(file: string): InputError {
  return new InputError('INPUT_READ', 'the run journal is damaged', {
    location: { file },
    hint: 'start over with --restart (the damaged journal is then replaced)',
  });
}

/**
 * The pipeline's PowerBiLoadJournal, kept in a journal file. Every call resolves once a write that
 * includes it is on disk; calls that arrive while a write is under way share the next one.
 */
export class PowerBiRunJournal implements PowerBiLoadJournal {
  readonly #store: PowerBiJournalStore;
  readonly #journal: PowerBiJournal;
  #version = 0;
  #written = 0;
  #writing: Promise<void> | undefined;
  #discarded = false;

  constructor(store: PowerBiJournalStore, journal: PowerBiJournal) {
    this.#store = store;
    this.#journal = journal;
  }

  get snapshot(): Readonly<PowerBiJournal> {
    return this.#journal;
  }

  get file(): string {
    return this.#store.file;
  }

  async creatingDataset(knownIds: readonly string[]): Promise<void> {
    this.#journal.knownIds = [...knownIds];
    await this.#save();
  }

  async datasetKnown(datasetId: string): Promise<void> {
    this.#journal.datasetId = datasetId;
    await this.#save();
  }

  async tableEmptying(table: string): Promise<void> {
    Object.assign(this.#table(table), { phase: 'empty', confirmedThrough: 0, beyond: [], accepted: 0, bytes: 0 });
    await this.#save();
  }

  async tableEmptied(table: string): Promise<void> {
    this.#table(table).phase = 'loading';
    await this.#save();
  }

  async batchSending(table: string, range: RowRange): Promise<void> {
    const entry = this.#table(table);
    entry.beyond = [...entry.beyond.filter((b) => b.firstRow !== range.firstRow), { firstRow: range.firstRow, rows: range.rows, state: 'sent' }];
    await this.#save();
  }

  async batchConfirmed(table: string, range: RowRange, bytes: number): Promise<void> {
    const entry = this.#table(table);
    const others = entry.beyond.filter((b) => b.firstRow !== range.firstRow);
    const merged = mergeConfirmed(
      entry.confirmedThrough,
      others.filter((b) => b.state === 'confirmed'),
      range,
    );
    entry.confirmedThrough = merged.confirmedThrough;
    entry.beyond = [...others.filter((b) => b.state === 'sent'), ...merged.confirmed.map((r) => ({ ...r, state: 'confirmed' as const }))].sort((a, b) => a.firstRow - b.firstRow);
    entry.accepted++;
    entry.bytes += bytes;
    await this.#save();
  }

  async batchNotApplied(table: string, range: RowRange): Promise<void> {
    const entry = this.#table(table);
    entry.beyond = entry.beyond.filter((b) => b.firstRow !== range.firstRow);
    await this.#save();
  }

  async tableComplete(table: string): Promise<void> {
    this.#table(table).phase = 'complete';
    await this.#save();
  }

  async discard(): Promise<void> {
    this.#discarded = true;
    await this.#writing?.catch(() => {});
    await this.#store.remove();
  }

  /** What the dataset holds of this run, for --resume. */
  resume(): PowerBiResume {
    return {
      datasetId: this.#journal.datasetId,
      tables: new Map(
        this.#journal.tables.map((t) => [
          t.table,
          {
            phase: t.phase,
            confirmedThrough: t.confirmedThrough,
            confirmed: t.beyond.filter((b) => b.state === 'confirmed').map(({ firstRow, rows }) => ({ firstRow, rows })),
            uncertain: t.beyond.filter((b) => b.state === 'sent').map(({ firstRow, rows }) => ({ firstRow, rows })),
            batches: t.accepted,
            bytes: t.bytes,
          },
        ]),
      ),
    };
  }

  /** Whether the run changed the dataset at all: made it, deleted rows, or sent rows. */
  hasEffects(): boolean {
    const j = this.#journal;
    if (j.command === 'create' && (j.datasetId !== undefined || j.knownIds !== undefined)) return true;
    return j.tables.some((t) => t.confirmedThrough > 0 || t.beyond.length > 0 || (j.policy === 'replace' && t.phase !== 'empty'));
  }

  /** `table "sales": rows 1-30,000 of sales.csv for sure, rows 30,001-40,000 of unknown fate`, for messages. */
  describe(): string {
    const parts: string[] = [];
    for (const t of this.#journal.tables) {
      const sure = [...(t.confirmedThrough > 0 ? [{ firstRow: 1, rows: t.confirmedThrough }] : []), ...t.beyond.filter((b) => b.state === 'confirmed')];
      const unsure = t.beyond.filter((b) => b.state === 'sent');
      if (t.phase === 'complete') parts.push(`table "${t.table}": all rows of ${t.file}`);
      else if (sure.length > 0 || unsure.length > 0) {
        const held = sure.length > 0 ? `rows ${formatRowRanges(sure)} of ${t.file} for sure` : `no rows of ${t.file} for sure`;
        parts.push(`table "${t.table}": ${held}${unsure.length > 0 ? `, rows ${formatRowRanges(unsure)} of unknown fate` : ''}`);
      } else if (this.#journal.policy === 'replace' && t.phase === 'loading') parts.push(`table "${t.table}": its rows deleted`);
    }
    return parts.length > 0 ? parts.join('; ') : 'no rows yet';
  }

  #table(name: string): PowerBiJournalTable {
    const entry = this.#journal.tables.find((t) => t.table === name);
    if (!entry) throw new Error(`journal has no table ${name}`);
    return entry;
  }

  async #save(): Promise<void> {
    if (this.#discarded) return;
    const wanted = ++this.#version;
    while (this.#written < wanted && !this.#discarded) {
      if (this.#writing === undefined) {
        const version = this.#version;
        const text = JSON.stringify({ ...this.#journal, updatedAt: new Date().toISOString() }, null, 1);
        this.#writing = this.#store
          .write(text)
          .then(() => {
            this.#written = Math.max(this.#written, version);
          })
          .finally(() => {
            this.#writing = undefined;
          });
      }
      await this.#writing;
    }
  }
}
