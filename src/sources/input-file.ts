// What every file-based source does first: find the file (or spool standard input to a
// temporary one so it can be read more than once), check it, and name errors after it.

import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InputError, UsageError } from '../errors.js';

export interface InputFileHandle {
  /** The file to read: the path given, or the spooled copy of stdin. */
  filePath: string;
  size: number;
  displayName: string;
  /** The temporary folder of a spooled stdin, to remove when the source closes. */
  spoolDir: string | undefined;
}

/**
 * Resolves `path` (`-` = stdin) to a readable regular file. Stdin is copied to a temporary file
 * first, because inference and upload each read the input once.
 */
export async function openInputFile(
  path: string,
  options: { displayName?: string | undefined; stdin?: NodeJS.ReadableStream | undefined; spoolName: string; pipeHint: string },
): Promise<InputFileHandle> {
  const isStdin = path === '-';
  const displayName = options.displayName ?? (isStdin ? 'stdin' : path);
  let spoolDir: string | undefined;
  try {
    let filePath = path;
    if (isStdin) {
      const stdin = options.stdin ?? process.stdin;
      if ((stdin as { isTTY?: boolean }).isTTY === true) {
        throw new UsageError('the input is - (stdin), but stdin is a terminal', { hint: options.pipeHint });
      }
      spoolDir = await mkdtemp(join(tmpdir(), 'mstrpush-stdin-'));
      filePath = join(spoolDir, options.spoolName);
      try {
        await pipeline(stdin, createWriteStream(filePath));
      } catch (err) {
        throw new InputError('INPUT_READ', `cannot read ${displayName}: ${messageOf(err)}`, { cause: err });
      }
    }
    let info;
    try {
      info = await stat(filePath);
    } catch (err) {
      throw fileError(err, filePath, displayName);
    }
    if (info.isDirectory()) throw new InputError('INPUT_READ', `${displayName} is a directory, not a file`);
    return { filePath, size: info.size, displayName, spoolDir };
  } catch (err) {
    await removeSpool(spoolDir);
    throw err;
  }
}

export async function removeSpool(spoolDir: string | undefined): Promise<void> {
  if (spoolDir !== undefined) await rm(spoolDir, { recursive: true, force: true });
}

export function fileError(err: unknown, path: string, displayName: string): InputError {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return new InputError('INPUT_NOT_FOUND', `file not found: ${path}`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') {
    return new InputError('INPUT_READ', `cannot read ${displayName}: permission denied`, { cause: err });
  }
  return new InputError('INPUT_READ', `cannot read ${displayName}: ${messageOf(err)}`, { cause: err });
}

export function messageOf(err: unknown): string {
  // Not instanceof: errors from another realm (a VM context, a worker) are Errors too.
  const message = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(err);
}
