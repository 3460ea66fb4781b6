// Decides how a create/append run relates to an unfinished earlier run of the same command:
// continue it (--resume), discard it (--restart), or refuse to trample on its open session.

import path from 'node:path';
import { InputError, RemoteError, UsageError } from '../../errors.js';
import type { NamedSource } from '../../pipeline/inputs.js';
import type { ResumePlan } from '../../pipeline/load.js';
import { JOURNAL_VERSION, JournalStore, defaultStateDir, fingerprintFile, journalKey, sameFingerprint } from '../../state/journal.js';
import type { Journal } from '../../state/journal.js';
import { RunJournal } from '../../state/run-journal.js';
import type { MstrClient } from '../../targets/mstr/client.js';
import type { Runtime } from '../context.js';

export interface RunSetup {
  journal: RunJournal | undefined;
  resume: ResumePlan | undefined;
  /** The dataset an unfinished create already made; it is reused instead of making another. */
  datasetId: string | undefined;
  /** The unfinished run had published: only the wait for the publication is left. */
  publishing: { datasetId: string; sessionId: string; journal: Journal } | undefined;
  /** The command line to repeat with --resume, for messages. */
  resumeCommand: string;
}

export async function openRun(params: {
  command: 'create' | 'append';
  runtime: Runtime;
  client: MstrClient;
  opts: Record<string, unknown>;
  /** Dataset name (create) or id (append). */
  dataset: string;
  policy: string;
  sources: readonly NamedSource[];
  argv: readonly string[];
}): Promise<RunSetup> {
  const { command, runtime, client, opts, sources } = params;
  const resumeCommand = commandLine(params.argv);
  const none: RunSetup = { journal: undefined, resume: undefined, datasetId: undefined, publishing: undefined, resumeCommand };
  const inputs = runInputs(opts, runtime, sources);
  if (inputs === undefined) return none;
  const { resume, restart, stateDir, files } = inputs;
  const key = journalKey({
    command,
    url: client.baseUrl,
    projectId: client.projectId,
    dataset: params.dataset,
    policy: params.policy,
    inputs: sources.map((s, i) => ({ file: files[i]!, table: s.table })),
  });
  const store = new JournalStore(stateDir, key);
  const existing = await store.read();
  const fingerprints = await Promise.all(files.map((f) => fingerprintFile(f)));
  const fresh = () =>
    new RunJournal(store, {
      version: JOURNAL_VERSION,
      key,
      command,
      commandLine: resumeCommand,
      url: client.baseUrl,
      datasetId: command === 'append' ? params.dataset : '',
      datasetName: command === 'create' ? params.dataset : undefined,
      sessionId: undefined,
      phase: 'uploading',
      tables: sources.map((s, i) => ({
        table: s.table,
        file: files[i]!,
        fingerprint: fingerprints[i]!,
        chunks: 0,
        nextRow: 0,
        nextOffset: 0,
        complete: false,
      })),
      updatedAt: new Date().toISOString(),
    });
  const reusable = (j: Journal) => (command === 'create' && j.datasetId ? j.datasetId : undefined);

  if (!existing) {
    if (resume) runtime.reporter.info('no unfinished run of this command: starting a new one');
    return { ...none, journal: fresh() };
  }

  const sessionState = existing.sessionId ? await client.uploadSessionState(existing.datasetId, existing.sessionId, runtime.signal) : undefined;
  if (restart) {
    if (sessionState === 'open') {
      await client.cancelUploadSession(existing.datasetId, existing.sessionId!);
      runtime.reporter.info(`cancelled upload session ${existing.sessionId} of the unfinished run`);
    }
    await store.remove();
    return { ...none, journal: fresh(), datasetId: reusable(existing) };
  }
  if (!resume) {
    if (sessionState === 'open') {
      throw new UsageError(`an unfinished run of this command left upload session ${existing.sessionId} open on dataset ${existing.datasetId}`, {
        hint: 'continue it with --resume, or cancel it and start over with --restart',
      });
    }
    // Its session is gone or published: nothing to continue, and nothing of it stays open.
    await store.remove();
    return { ...none, journal: fresh(), datasetId: reusable(existing) };
  }

  for (const [i, table] of existing.tables.entries()) {
    const now = fingerprints[i];
    if (table.file !== files[i] || !now || !sameFingerprint(table.fingerprint, now)) {
      throw new InputError('INPUT_SCHEMA', 'the file changed since the unfinished run, which therefore cannot be continued', {
        location: { file: sources[i]?.source.displayName ?? table.file },
        hint: `start over with --restart (the unfinished run's upload session ${existing.sessionId ?? '(none)'} is then cancelled)`,
      });
    }
  }
  const journal = new RunJournal(store, existing);
  if (!existing.sessionId) return { ...none, journal, datasetId: reusable(existing) };
  if (sessionState === 'gone') {
    throw new RemoteError('MSTR_NOT_FOUND', `upload session ${existing.sessionId} of the unfinished run is gone from the server (cancelled or expired); nothing of it was published`, {
      hint: 'start over with --restart',
    });
  }
  if (sessionState === 'published') {
    return { ...none, journal, publishing: { datasetId: existing.datasetId, sessionId: existing.sessionId, journal: existing } };
  }
  runtime.reporter.info(`continuing the unfinished run from ${store.file}`);
  return { ...none, journal, resume: journal.resumePlan(), datasetId: existing.datasetId };
}

/** The run-state flags and where the run's files and journal are; undefined for a run that reads stdin. */
export interface RunInputs {
  resume: boolean;
  restart: boolean;
  stateDir: string;
  /** Absolute paths of the inputs, in table order. */
  files: string[];
}

/**
 * What both targets settle before looking for an unfinished run: --resume and --restart exclude
 * each other, and a run reading standard input has nothing to resume from (undefined).
 */
export function runInputs(opts: Record<string, unknown>, runtime: Runtime, sources: readonly NamedSource[]): RunInputs | undefined {
  const resume = opts.resume === true;
  const restart = opts.restart === true;
  if (resume && restart) throw new UsageError('--resume and --restart exclude each other');
  if (sources.some((s) => s.source.displayName === 'stdin')) {
    if (resume || restart) throw new UsageError('a run that reads standard input cannot be resumed', { hint: 'save the input to a file first' });
    return undefined;
  }
  return {
    resume,
    restart,
    stateDir: runtime.settings.stateDir ?? defaultStateDir(runtime.io.env),
    files: sources.map((s) => path.resolve(runtime.io.cwd, s.source.displayName)),
  };
}

const RUN_FLAGS = new Set(['--resume', '--restart', '--keep-session']);

/** The command line as the user can run it again, without the run-state flags. */
export function commandLine(argv: readonly string[]): string {
  return ['mstrpush', ...argv.filter((a) => !RUN_FLAGS.has(a))].map(shellQuote).join(' ');
}

function shellQuote(arg: string): string {
  const plain = arg.replace(/^\u0000/, '');
  return /^[\w@%+=:,./-]+$/.test(plain) ? plain : `'${plain.replace(/'/g, `'\\''`)}'`;
}
