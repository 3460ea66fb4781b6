// The pipeline's LoadJournal, stored as a Journal file: every confirmation is written before the
// next chunk goes out, so after a crash the journal never claims more than the server has.

import type { LoadJournal, ResumePlan } from '../pipeline/load.js';
import type { Journal, JournalStore, JournalTable } from './journal.js';

export class RunJournal implements LoadJournal {
  readonly #store: JournalStore;
  readonly #journal: Journal;

  constructor(store: JournalStore, journal: Journal) {
    this.#store = store;
    this.#journal = journal;
  }

  get snapshot(): Readonly<Journal> {
    return this.#journal;
  }

  get file(): string {
    return this.#store.file;
  }

  /** Records the dataset before any upload session exists, so a resumed create never makes a second one. */
  async datasetKnown(datasetId: string): Promise<void> {
    this.#journal.datasetId = datasetId;
    await this.#save();
  }

  async sessionOpened(sessionId: string): Promise<void> {
    this.#journal.sessionId = sessionId;
    this.#journal.phase = 'uploading';
    await this.#save();
  }

  async chunkConfirmed(table: string, state: { chunks: number; nextRow: number; nextOffset: number }): Promise<void> {
    const entry = this.#table(table);
    entry.chunks = state.chunks;
    entry.nextRow = state.nextRow;
    entry.nextOffset = state.nextOffset;
    await this.#save();
  }

  async tableComplete(table: string): Promise<void> {
    this.#table(table).complete = true;
    await this.#save();
  }

  async publishing(): Promise<void> {
    this.#journal.phase = 'publishing';
    await this.#save();
  }

  async discard(): Promise<void> {
    await this.#store.remove();
  }

  /** What the server already holds, for `--resume`. */
  resumePlan(): ResumePlan | undefined {
    if (!this.#journal.sessionId) return undefined;
    return {
      sessionId: this.#journal.sessionId,
      tables: new Map(this.#journal.tables.map((t) => [t.table, { chunks: t.chunks, nextRow: t.nextRow, complete: t.complete }])),
    };
  }

  #table(name: string): JournalTable {
    const entry = this.#journal.tables.find((t) => t.table === name);
    if (!entry) throw new Error(`journal has no table ${name}`);
    return entry;
  }

  async #save(): Promise<void> {
    await this.#store.write(this.#journal);
  }
}
