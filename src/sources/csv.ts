// CSV input: a file, a .csv.gz, or stdin spooled to a temp file, read as batches of raw string
// rows. Every pass streams from disk, so memory holds one read chunk and one batch at a time.

import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { pipeline as pipelineCallback } from 'node:stream';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { InputError, isMstrPushError } from '../errors.js';
import type { RawCell } from '../schema/types.js';
import { DIALECT_SAMPLE_CHARS, detectDialect } from './csv-dialect.js';
import { fileError, messageOf, openInputFile, removeSpool } from './input-file.js';
import { CsvTokenizer, DEFAULT_MAX_RECORD_CHARS } from './csv-tokenizer.js';
import type { CsvDialect, CsvRecord } from './csv-tokenizer.js';
import { duplicateNames } from './types.js';
import type { EncodeOptions, EncodedBatch, RowBatch, ScanIntoOptions, TableSource } from './types.js';
import type { SchemaInferrer } from '../schema/infer.js';
import { encodeRowBatches } from '../chunker/encode-rows.js';
import { CsvByteTokenizer, CsvFastPathExit, byteDialectSupported } from './csv-bytes.js';
import type { ByteRecordHandler } from './csv-bytes.js';
import { CsvRowEncoder, byteNullTokensSupported, createCsvCellScanner, wireReadyColumns } from './csv-fast.js';
import { CsvKernel } from './csv-kernel.js';

export interface CsvSourceOptions {
  /** One character; detected from the first 64 KiB when absent. */
  delimiter?: string | undefined;
  /** One character, or null for no quoting; detected when absent. */
  quote?: string | null | undefined;
  /** The first record holds column names; otherwise names are column_1..column_N. */
  header: boolean;
  /** What messages call the input; defaults to the path, or `stdin` for `-`. */
  displayName?: string | undefined;
  /** Read for the path `-`; defaults to process.stdin. */
  stdin?: NodeJS.ReadableStream | undefined;
  /** Rows per batch; default 4096. */
  batchRows?: number | undefined;
  /** Longest record accepted, in characters (guards against an unbalanced quote); default 64 Mi. */
  maxRecordChars?: number | undefined;
}

/** A CSV TableSource, plus the dialect it reads with (given or detected). */
export interface CsvTableSource extends TableSource {
  readonly format: 'csv';
  readonly dialect: CsvDialect;
}

const READ_CHUNK_BYTES = 1024 * 1024;
// The tokenizer gets text in pieces of this size. Its records then die young: handing it a whole
// 1 MiB chunk keeps ~10k records alive across minor GCs, which measured ~25% slower overall.
const PIECE_CHARS = 64 * 1024;
const DEFAULT_BATCH_ROWS = 4096;

interface InputFile {
  path: string;
  gzip: boolean;
  displayName: string;
}

interface TextPiece {
  text: string;
  /** Bytes of the file on disk consumed so far (compressed bytes for gzip). */
  bytesRead: number;
}

/**
 * Opens a CSV file (`-` for stdin) and reads up to its first record, so that the dialect and
 * the column names are known when the promise resolves. Throws InputError INPUT_NOT_FOUND,
 * INPUT_READ, INPUT_EMPTY, INPUT_PARSE or INPUT_SCHEMA (duplicate header names).
 */
export async function openCsvSource(path: string, options: CsvSourceOptions): Promise<CsvTableSource> {
  const file = await openInputFile(path, {
    displayName: options.displayName,
    stdin: options.stdin,
    spoolName: 'stdin',
    pipeHint: 'pipe data in, for example: cat data.csv | mstrpush ... -',
  });
  const { filePath, size, displayName, spoolDir } = file;
  try {
    const input: InputFile = {
      path: filePath,
      gzip: path.toLowerCase().endsWith('.gz') || (await hasGzipMagic(filePath, displayName)),
      displayName,
    };
    const { dialect, first } = await readHead(input, options);
    const columns = options.header ? headerNames(first, displayName) : generatedNames(first.fields.length);
    return new CsvSource({
      input,
      size,
      dialect,
      columns,
      skipFirst: options.header,
      batchRows: options.batchRows ?? DEFAULT_BATCH_ROWS,
      maxRecordChars: options.maxRecordChars,
      spoolDir,
    });
  } catch (err) {
    await removeSpool(spoolDir);
    throw err;
  }
}

interface CsvSourceInit {
  input: InputFile;
  size: number;
  dialect: CsvDialect;
  columns: string[];
  skipFirst: boolean;
  batchRows: number;
  maxRecordChars: number | undefined;
  spoolDir: string | undefined;
}

/** What a completed byte-path scan learnt, valid only for the file it read. */
interface ScanMemo {
  fingerprint: string;
  nullTokens: string;
  fastKinds: Int32Array;
  slowCells: Uint8Array;
}

/** Identity, size and modification time: any write to the file changes it. */
async function fingerprint(path: string): Promise<string> {
  const info = await stat(path, { bigint: true });
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
}

class CsvSource implements CsvTableSource {
  readonly format = 'csv' as const;
  private scanned: ScanMemo | undefined;
  readonly declaredTypes = undefined;
  readonly displayName: string;
  readonly totalBytes: number;
  readonly columns: readonly string[];
  readonly dialect: CsvDialect;
  private readonly init: CsvSourceInit;
  private spoolDir: string | undefined;

  constructor(init: CsvSourceInit) {
    this.init = init;
    this.displayName = init.input.displayName;
    this.totalBytes = init.size;
    this.columns = init.columns;
    this.dialect = init.dialect;
    this.spoolDir = init.spoolDir;
  }

  async *batches(signal?: AbortSignal): AsyncGenerator<RowBatch> {
    const { batchRows, skipFirst } = this.init;
    const width = this.columns.length;
    let skip = skipFirst;
    let rows: RawCell[][] = [];
    let lines: number[] = [];
    for await (const { records, bytesRead } of this.recordGroups(signal)) {
      for (const record of records) {
        if (skip) {
          skip = false;
          continue;
        }
        if (record.fields.length !== width) throw this.widthError(record, width);
        rows.push(record.fields);
        lines.push(record.line);
        if (rows.length >= batchRows) {
          signal?.throwIfAborted();
          yield { rows, lines, bytesRead };
          rows = [];
          lines = [];
        }
      }
    }
    signal?.throwIfAborted();
    if (rows.length > 0) yield { rows, lines, bytesRead: this.totalBytes };
  }

  async scanInto(inferrer: SchemaInferrer, options: ScanIntoOptions, signal?: AbortSignal): Promise<void> {
    if (this.bytePathFits(options.nullTokens)) {
      const kernel = CsvKernel.create(this.dialect, this.columns.length, options.nullTokens, this.maxRecordBytes);
      const tokenizer = kernel === undefined ? new CsvByteTokenizer(this.dialect, this.columns.length, { maxRecordBytes: this.maxRecordBytes }) : undefined;
      const scanner = createCsvCellScanner(kernel?.fields ?? tokenizer!, inferrer.cells, { nullTokens: options.nullTokens, quote: this.dialect.quote });
      const cells = inferrer.cells;
      const told = new Int32Array(this.columns.length);
      kernel?.skip(this.init.skipFirst ? 1 : 0);
      const onRecord = kernel === undefined ? this.skippingHeader(scanner.onRecord) : scanner.onRecord;
      const before = await fingerprint(this.init.input.path);
      try {
        if (kernel !== undefined) {
          for await (const { length, bytesRead } of readInto(this.init.input, signal, kernel)) {
            kernel.scan(length, cells, onRecord, told);
            options.onProgress(bytesRead, inferrer.rowCount);
          }
          kernel.scan(undefined, cells, onRecord, told);
        } else {
          for await (const { bytes, bytesRead } of readBytes(this.init.input, signal)) {
            tokenizer!.push(bytes, onRecord);
            options.onProgress(bytesRead, inferrer.rowCount);
          }
          tokenizer!.end(onRecord);
        }
        signal?.throwIfAborted();
        options.onProgress(this.totalBytes, inferrer.rowCount);
        const after = await fingerprint(this.init.input.path);
        if (after === before) {
          // The kernel's findings and those of the records it gave back to JS, together.
          const { fastKinds, slowCells } = kernel?.scanResults() ?? { fastKinds: new Int32Array(this.columns.length), slowCells: new Uint8Array(this.columns.length) };
          fastKinds.forEach((kinds, c) => (fastKinds[c] = kinds | scanner.fastKinds[c]!));
          slowCells.forEach((slow, c) => (slowCells[c] = slow | scanner.slowCells[c]!));
          this.scanned = { fingerprint: after, nullTokens: options.nullTokens.join('\u0000'), fastKinds, slowCells };
        }
        return;
      } catch (err) {
        if (!(err instanceof CsvFastPathExit)) throw err;
      }
    }
    // The string path from the first row the byte path did not take, to the same outcome.
    let toSkip = inferrer.rowCount;
    for await (const batch of this.batches(signal)) {
      const first = Math.min(toSkip, batch.rows.length);
      toSkip -= first;
      inferrer.add(first === 0 ? batch : { ...batch, rows: batch.rows.slice(first), lines: batch.lines.slice(first) });
      options.onProgress(batch.bytesRead, inferrer.rowCount);
    }
  }

  async *encodedBatches(options: EncodeOptions, signal?: AbortSignal): AsyncGenerator<EncodedBatch> {
    const columns = this.columns.map((name, i) => ({ name, type: options.types[i] ?? 'STRING' }));
    let done = options.skipRows ?? 0;
    if (this.bytePathFits(options.nullTokens)) {
      const kernel = CsvKernel.create(this.dialect, this.columns.length, options.nullTokens, this.maxRecordBytes);
      const tokenizer = kernel === undefined ? new CsvByteTokenizer(this.dialect, this.columns.length, { maxRecordBytes: this.maxRecordBytes }) : undefined;
      // Cells the scan of this very file proved wire-ready are copied without a second check;
      // the file is compared with the scanned one before and after, so a change cannot slip by.
      const scanned = this.scanned;
      const trusted =
        scanned !== undefined && scanned.nullTokens === options.nullTokens.join('\u0000') && scanned.fingerprint === (await fingerprint(this.init.input.path));
      const wireReady = trusted ? wireReadyColumns(options.types, scanned.fastKinds, scanned.slowCells) : undefined;
      const encoder = new CsvRowEncoder(kernel?.fields ?? tokenizer!, columns, {
        nullTokens: options.nullTokens,
        quote: this.dialect.quote,
        file: this.displayName,
        // The kernel passes over the rows already sent itself, before any reach the encoder.
        skipRows: kernel === undefined ? done : 0,
        wireReady,
      });
      kernel?.setTypes(options.types, wireReady);
      kernel?.skip(done + (this.init.skipFirst ? 1 : 0));
      const onRecord = kernel === undefined ? this.skippingHeader(encoder.onRecord) : encoder.onRecord;
      const sink = { get pendingRows() { return encoder.pendingRows; }, append: encoder.append.bind(encoder), onRecord };
      try {
        const pieces = kernel !== undefined ? readInto(this.init.input, signal, kernel) : readBytes(this.init.input, signal);
        for await (const piece of pieces) {
          if ('length' in piece) {
            for (const batch of kernel!.encode(piece.length, sink, piece.bytesRead)) {
              done += batch.rows;
              yield batch;
            }
          } else {
            tokenizer!.push(piece.bytes, onRecord);
          }
          if (encoder.pendingRows === 0) continue;
          const batch = encoder.takeBatch(piece.bytesRead);
          done += batch.rows;
          yield batch;
        }
        if (kernel !== undefined) {
          for (const batch of kernel.encode(undefined, sink, this.totalBytes)) {
            done += batch.rows;
            yield batch;
          }
        } else {
          tokenizer!.end(onRecord);
        }
        signal?.throwIfAborted();
        if (trusted && (await fingerprint(this.init.input.path)) !== scanned.fingerprint) throw this.changedError();
        yield encoder.takeBatch(this.totalBytes);
        return;
      } catch (err) {
        if (!(err instanceof CsvFastPathExit)) throw err;
      }
    }
    // Rows encoded but not yet handed over are dropped here and encoded again by the string path.
    yield* encodeRowBatches(this.batches(signal), columns, { nullTokens: options.nullTokens, file: this.displayName, skipRows: done });
  }

  private changedError(): InputError {
    return new InputError('INPUT_READ', `${this.displayName} changed while it was being read`, {
      hint: 'let the program writing the file finish, or push a copy of it; nothing was published',
    });
  }

  private get maxRecordBytes(): number {
    // The string path's limit in characters; the same number in bytes for the byte paths.
    return this.init.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  }

  private bytePathFits(nullTokens: readonly string[]): boolean {
    return byteDialectSupported(this.dialect) && byteNullTokensSupported(nullTokens, this.dialect.quote);
  }

  // The byte path sees the header line again; the first record is not data when there is one.
  private skippingHeader(onRecord: ByteRecordHandler): ByteRecordHandler {
    if (!this.init.skipFirst) return onRecord;
    let skip = true;
    return (buf, line) => {
      if (skip) skip = false;
      else onRecord(buf, line);
    };
  }

  async close(): Promise<void> {
    const dir = this.spoolDir;
    this.spoolDir = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }

  // Records per piece of text, ending with those completed by the end of input.
  private async *recordGroups(
    signal: AbortSignal | undefined,
  ): AsyncGenerator<{ records: CsvRecord[]; bytesRead: number }> {
    const tokenizer = new CsvTokenizer(this.dialect, {
      file: this.displayName,
      maxRecordChars: this.init.maxRecordChars,
    });
    let bytesRead = 0;
    for await (const piece of readText(this.init.input, signal)) {
      bytesRead = piece.bytesRead;
      tokenizer.push(piece.text);
      yield { records: tokenizer.takeRecords(), bytesRead };
    }
    tokenizer.end();
    yield { records: tokenizer.takeRecords(), bytesRead };
  }

  private widthError(record: CsvRecord, width: number): InputError {
    return new InputError('INPUT_PARSE', `expected ${width} fields, found ${record.fields.length}`, {
      location: { file: this.displayName, line: record.line },
      hint:
        record.fields.length > width
          ? 'a value may hold an unquoted delimiter; quote it, or check --delimiter'
          : 'the record may be cut short, or a value may hold an unquoted line break',
    });
  }
}

// Reads until the first record, detecting the dialect from the first 64 KiB on the way.
async function readHead(
  input: InputFile,
  options: CsvSourceOptions,
): Promise<{ dialect: CsvDialect; first: CsvRecord }> {
  const given = { delimiter: options.delimiter, quote: options.quote };
  const tokenizerOptions = { file: input.displayName, maxRecordChars: options.maxRecordChars };
  let sample = '';
  let tokenizer: CsvTokenizer | undefined;
  let dialect: CsvDialect | undefined;
  for await (const piece of readText(input, undefined)) {
    if (tokenizer === undefined) {
      sample += piece.text;
      if (sample.length < DIALECT_SAMPLE_CHARS) continue;
      dialect = detectDialect(sample, given);
      tokenizer = new CsvTokenizer(dialect, tokenizerOptions);
      tokenizer.push(sample);
    } else {
      tokenizer.push(piece.text);
    }
    const first = tokenizer.takeRecords()[0];
    if (first !== undefined && dialect !== undefined) return { dialect, first };
  }
  if (tokenizer === undefined || dialect === undefined) {
    dialect = detectDialect(sample, given, { isWholeInput: true });
    tokenizer = new CsvTokenizer(dialect, tokenizerOptions);
    tokenizer.push(sample);
  }
  tokenizer.end();
  const first = tokenizer.takeRecords()[0];
  if (first === undefined) {
    throw new InputError('INPUT_EMPTY', `${input.displayName} is empty`, {
      hint: 'the input has no records, not even a header line',
    });
  }
  return { dialect, first };
}

function headerNames(first: CsvRecord, displayName: string): string[] {
  const names = first.fields.map((name, i) => (name === '' ? `column_${i + 1}` : name));
  const duplicates = duplicateNames(names);
  if (duplicates.length > 0) {
    const list = duplicates.map((name) => JSON.stringify(name)).join(', ');
    throw new InputError('INPUT_SCHEMA', `duplicate column names in the header: ${list}`, {
      location: { file: displayName, line: first.line, value: duplicates.join(', ') },
      hint: 'rename the columns so each name is unique, or pass --no-header if the first line is data',
    });
  }
  return names;
}

function generatedNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `column_${i + 1}`);
}

/**
 * The file as decoded text pieces, BOM removed. Leaving the loop early, an error, or aborting
 * `signal` destroys the streams, which closes the file.
 */
async function* readText(input: InputFile, signal: AbortSignal | undefined): AsyncGenerator<TextPiece> {
  // Stream mode holds back a multi-byte character cut by a chunk boundary until its last byte
  // arrives, like StringDecoder, but decodes measurably faster. readBytes handles the BOM.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let last = 0;
  for await (const { bytes, bytesRead } of readBytes(input, signal)) {
    last = bytesRead;
    yield* pieces(decoder.decode(bytes, { stream: true }), bytesRead);
  }
  yield* pieces(decoder.decode(), last);
}

interface BytePiece {
  bytes: Buffer;
  /** Bytes of the file on disk consumed so far (compressed bytes for gzip). */
  bytesRead: number;
}

/** The file's bytes (decompressed for gzip), BOM removed, with the same clean-up as readText. */
async function* readBytes(input: InputFile, signal: AbortSignal | undefined): AsyncGenerator<BytePiece> {
  signal?.throwIfAborted();
  const file = createReadStream(input.path, { highWaterMark: READ_CHUNK_BYTES });
  let stream: Readable = file;
  if (input.gzip) {
    const gunzip = createGunzip({ chunkSize: PIECE_CHARS });
    // pipeline forwards a read error into gunzip, and closes the file if gunzip is destroyed.
    pipelineCallback(file, gunzip, () => {});
    stream = gunzip;
  }
  const onAbort = (): void => {
    stream.destroy();
    file.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let plainBytes = 0;
  // The first bytes wait here until there are three of them for the encoding check.
  let head: Buffer | undefined = Buffer.alloc(0);
  const consumed = (chunkBytes: number): number => {
    plainBytes += chunkBytes;
    return input.gzip ? file.bytesRead : plainBytes;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let bytes = chunk;
      if (head !== undefined) {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        if (head.length < 3) {
          consumed(chunk.length);
          continue;
        }
        bytes = withoutBom(head, input.displayName);
        head = undefined;
      }
      const bytesRead = consumed(chunk.length);
      signal?.throwIfAborted();
      yield { bytes, bytesRead };
    }
    if (head !== undefined && head.length > 0) yield { bytes: withoutBom(head, input.displayName), bytesRead: input.gzip ? file.bytesRead : plainBytes };
  } catch (err) {
    if (signal?.aborted === true) signal.throwIfAborted();
    throw readError(err, input);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stream.destroy();
    file.destroy();
  }
}

/**
 * The file's bytes read straight into the CSV kernel's input region, BOM removed, with the same
 * errors and clean-up as readBytes. Yields how many bytes each read added.
 */
async function* readInto(input: InputFile, signal: AbortSignal | undefined, kernel: CsvKernel): AsyncGenerator<{ length: number; bytesRead: number }> {
  if (input.gzip) {
    // Decompressed pieces are small; each is copied in.
    for await (const { bytes, bytesRead } of readBytes(input, signal)) {
      if (!kernel.place(bytes)) throw new CsvFastPathExit('record too large');
      yield { length: bytes.length, bytesRead };
    }
    return;
  }
  signal?.throwIfAborted();
  let handle: FileHandle;
  try {
    handle = await open(input.path, 'r');
  } catch (err) {
    throw readError(err, input);
  }
  try {
    let position = 0;
    for (;;) {
      const space = kernel.space();
      if (space.length === 0) throw new CsvFastPathExit('record too large');
      let length: number;
      try {
        ({ bytesRead: length } = await handle.read(space, 0, Math.min(space.length, READ_CHUNK_BYTES), position));
      } catch (err) {
        signal?.throwIfAborted();
        throw readError(err, input);
      }
      signal?.throwIfAborted();
      if (length === 0) return;
      if (position === 0) {
        // A file read in pieces of this size has its first 3 bytes in the first piece, if any.
        const head = withoutBom(Buffer.from(space.buffer, space.byteOffset, length), input.displayName);
        if (head.length < length) space.copyWithin(0, length - head.length, length);
        position += length;
        length = head.length;
      } else {
        position += length;
      }
      yield { length, bytesRead: position };
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

function* pieces(text: string, bytesRead: number): Generator<TextPiece> {
  for (let at = 0; at < text.length; at += PIECE_CHARS) {
    yield { text: text.length <= PIECE_CHARS ? text : text.slice(at, at + PIECE_CHARS), bytesRead };
  }
}

function withoutBom(bytes: Buffer, displayName: string): Buffer {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new InputError('INPUT_READ', `${displayName} is UTF-16 encoded, which is not supported`, {
      hint: 'convert it to UTF-8, for example: iconv -f UTF-16 -t UTF-8',
    });
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3);
  return bytes;
}

async function hasGzipMagic(path: string, displayName: string): Promise<boolean> {
  try {
    const handle = await open(path, 'r');
    try {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
      return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw fileError(err, path, displayName);
  }
}

function readError(err: unknown, input: InputFile): unknown {
  if (isMstrPushError(err)) return err;
  const code = (err as { code?: unknown }).code;
  if (input.gzip && typeof code === 'string' && code.startsWith('Z_')) {
    return new InputError('INPUT_READ', `cannot decompress ${input.displayName}: ${messageOf(err)}`, {
      cause: err,
      hint: 'the gzip data is damaged or cut short',
    });
  }
  return fileError(err, input.path, input.displayName);
}

