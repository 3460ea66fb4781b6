// The run journal: what a load has confirmed so far, written atomically after every chunk, so a
// run killed mid-upload (kill -9, power cut) can continue in the same upload session with
// `--resume` instead of starting over or leaving a half-loaded session behind.

import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';

export const JOURNAL_VERSION = 1;

export interface FileFingerprint {
  size: number;
  mtimeMs: number;
  /** sha256 of the first and the last MiB: cheap on large files, and any rewrite changes mtime. */
  sample: string;
}

export interface JournalTable {
  table: string;
  file: string;
  fingerprint: FileFingerprint;
  /** Chunks of this table the server confirmed, in index order: 1..chunks. */
  chunks: number;
  /** Data rows covered by the confirmed chunks: the next chunk starts at this row. */
  nextRow: number;
  /** Bytes of the file read when the last confirmed chunk was cut (informational; .gz counts compressed bytes). */
  nextOffset: number;
  complete: boolean;
}

export interface Journal {
  version: typeof JOURNAL_VERSION;
  key: string;
  command: 'create' | 'append';
  /** The command line as the user can run it again, for messages. */
  commandLine: string;
  url: string;
  datasetId: string;
  datasetName: string | undefined;
  sessionId: string | undefined;
  phase: 'uploading' | 'publishing';
  tables: JournalTable[];
  updatedAt: string;
}

/** What identifies "the same command": target, dataset, inputs and the way they are loaded. */
export interface RunIdentity {
  command: 'create' | 'append';
  url: string;
  projectId: string | undefined;
  /** The dataset name (create) or id (append). */
  dataset: string;
  policy: string;
  inputs: ReadonlyArray<{ file: string; table: string }>;
}

export function journalKey(identity: RunIdentity): string {
  const canonical = JSON.stringify({
    command: identity.command,
    url: identity.url.replace(/\/+$/, ''),
    projectId: identity.projectId ?? null,
    dataset: identity.dataset,
    policy: identity.policy,
    inputs: identity.inputs.map((i) => [path.resolve(i.file), i.table]),
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/** `$XDG_STATE_HOME/mstrpush`, else `~/.local/state/mstrpush`. */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME || path.join(env.HOME || os.homedir(), '.local', 'state');
  return path.join(base, 'mstrpush');
}

const SAMPLE_BYTES = 1024 * 1024;

export async function fingerprintFile(file: string): Promise<FileFingerprint> {
  const info = await stat(file);
  const hash = createHash('sha256');
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(SAMPLE_BYTES, info.size));
    await handle.read(head, 0, head.length, 0);
    hash.update(head);
    if (info.size > SAMPLE_BYTES) {
      const tailLength = Math.min(SAMPLE_BYTES, info.size - SAMPLE_BYTES);
      const tail = Buffer.alloc(tailLength);
      await handle.read(tail, 0, tailLength, info.size - tailLength);
      hash.update(tail);
    }
  } finally {
    await handle.close();
  }
  return { size: info.size, mtimeMs: Math.trunc(info.mtimeMs), sample: hash.digest('hex') };
}

export function sameFingerprint(a: FileFingerprint, b: FileFingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.sample === b.sample;
}

/** Reads and writes one run's journal file in the state directory. */
export class JournalStore {
  readonly file: string;

  constructor(stateDir: string, key: string) {
    this.file = path.join(stateDir, 'runs', `${key}.json`);
  }

  async read(): Promise<Journal | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const journal = JSON.parse(text) as Journal;
      if (journal.version !== JOURNAL_VERSION) return undefined;
      return journal;
    } catch {
      throw new InputError('INPUT_READ', 'the run journal is damaged', {
        location: { file: this.file },
        hint: 'start over with --restart (the damaged journal is then replaced)',
      });
    }
  }

  /** Write to a temporary file and rename it over the old one, so a crash never leaves half a journal. */
  async write(journal: Journal): Promise<void> {
    await writeFileAtomically(this.file, JSON.stringify({ ...journal, updatedAt: new Date().toISOString() }, null, 1));
  }

  async remove(): Promise<void> {
    await removeJournalFile(this.file);
  }
}

/**
 * Removes a journal and any half-written copy of it that a killed run left behind (the temporary
 * file of writeFileAtomically), so the state directory does not collect them.
 */
export async function removeJournalFile(file: string): Promise<void> {
  await rm(file, { force: true });
  const prefix = `${path.basename(file)}.`;
  const leftovers = await readdir(path.dirname(file)).catch(() => [] as string[]);
  await Promise.all(
    leftovers
      .filter((name) => name.startsWith(prefix) && name.endsWith('.tmp'))
      .map((name) => rm(path.join(path.dirname(file), name), { force: true })),
  );
}

/**
 * Replaces `file` with `text` all at once: written and synced to a temporary file (owner-only,
 * in an owner-only folder) that is then renamed over it, so a crash never leaves half a file.
 * Writes to the same file must not overlap.
 */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}
