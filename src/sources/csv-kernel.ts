// Drives the WebAssembly CSV kernel (src/wasm/csv-kernel.ts): feeds it the file's bytes, folds
// what it learnt into the schema inference or hands its JSON rows to the chunker, and runs the
// JS record handlers of csv-fast.ts for the records the kernel gives back. Same results as the JS
// byte path, at a fraction of its cost: no JS runs per cell unless a cell is unusual.

import { readFileSync } from 'node:fs';

import type { CellFold } from '../schema/infer.js';
import type { WireType } from '../schema/types.js';
import { VALUE_KIND } from '../schema/values.js';
import { wasm } from '../util/wasm.js';
import type { WasmModule } from '../util/wasm.js';
import { CsvFastPathExit, byteDialectSupported } from './csv-bytes.js';
import type { ByteRecordHandler } from './csv-bytes.js';
import type { CsvDialect } from './csv-tokenizer.js';
import type { EncodedBatch } from './types.js';

interface KernelExports {
  memory: { readonly buffer: ArrayBuffer };
  layout(what: number): number;
  configure(width: number, delimiter: number, quote: number, maxRecordBytes: number, nullTokens: number): void;
  skip(records: number): void;
  setInput(length: number, final: number): void;
  recordStart(): number;
  currentLine(): number;
  rowCount(): number;
  outputLength(): number;
  clearRows(): void;
  setNeedComma(value: number): void;
  scan(): number;
  encode(): number;
}

// What layout(n) of the kernel answers: the offsets and sizes of its memory regions.
const LAYOUT = {
  MAX_WIDTH: 0,
  MODES: 1,
  TYPES: 2,
  WIRE_READY: 3,
  WANTS_EXAMPLE: 4,
  SLOW: 5,
  FLAGS: 6,
  KINDS: 7,
  FAST_KINDS: 8,
  ACCEPT: 9,
  REJECT: 10,
  NULLS: 11,
  STARTS: 12,
  ENDS: 13,
  NULL_TOKENS: 14,
  MAX_NULL_TOKENS: 15,
  NULL_TOKEN_BYTES: 16,
  ROW_ENDS: 17,
  ROWS_CAP: 18,
  LINES: 19,
  INPUT: 20,
  INPUT_CAP: 21,
  OUTPUT: 22,
  OUTPUT_CAP: 23,
} as const;

// Return codes of scan() and encode().
const DONE = 0;
const JS_RECORD = 1;
const NEW_KINDS = 2;
// 3, OUTPUT_FULL: the output region is full; taking the rows lets the kernel go on.
const EXIT = 4;

const TYPE_CODES: Readonly<Record<WireType, number>> = {
  STRING: 0,
  INTEGER: 1,
  BIGINTEGER: 2,
  DOUBLE: 3,
  BIGDECIMAL: 4,
  BOOL: 5,
  DATE: 6,
  TIME: 7,
  DATETIME: 8,
};

// The kinds the kernel's classify gives (one bit each), as in VALUE_KIND.
const KERNEL_KINDS = [VALUE_KIND.INT32, VALUE_KIND.INT64, VALUE_KIND.FRACTION, VALUE_KIND.BOOL, VALUE_KIND.DATE, VALUE_KIND.TIME, VALUE_KIND.DATETIME];

let compiled: WasmModule | null | undefined;
let enabled = true;

/** Turns the kernel off (or on again), so tests can compare it with the JS byte path. */
export function useCsvKernel(on: boolean): void {
  enabled = on;
}

// The module is built next to the compiled JS (dist/wasm); from src (under jest) the same file
// is two folders up, then dist/wasm. Missing, it leaves the JS byte path to do the work.
function kernelModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = new wasm.Module(readFileSync(new URL('../../dist/wasm/csv-kernel.wasm', import.meta.url)));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** The field tables of the record given back, in the shape csv-fast.ts's handlers read. */
export interface KernelFields {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly flags: Uint8Array;
}

/** One pass over one file; create a new one for every pass. */
export class CsvKernel {
  readonly fields: KernelFields;
  readonly #kernel: KernelExports;
  readonly #memory: Uint8Array;
  /** The input region as a Buffer: field offsets index into it. */
  readonly #input: Buffer;
  readonly #width: number;
  readonly #inputCap: number;
  readonly #maxRecordBytes: number;
  readonly #at: (what: number) => number;
  #carry = 0;
  #checksSet = false;

  /** Undefined when the kernel cannot read this file's dialect or settings, or is not built. */
  static create(dialect: CsvDialect, width: number, nullTokens: readonly string[], maxRecordBytes: number): CsvKernel | undefined {
    if (!enabled || !byteDialectSupported(dialect)) return undefined;
    const module = kernelModule();
    if (module === null) return undefined;
    const kernel = new wasm.Instance(module, {}).exports as unknown as KernelExports;
    const tokenBytes = nullTokens.map((token) => Buffer.from(token, 'utf8'));
    if (width < 1 || width > kernel.layout(LAYOUT.MAX_WIDTH)) return undefined;
    if (tokenBytes.length > kernel.layout(LAYOUT.MAX_NULL_TOKENS) || tokenBytes.some((bytes) => bytes.length > kernel.layout(LAYOUT.NULL_TOKEN_BYTES))) return undefined;
    return new CsvKernel(kernel, dialect, width, tokenBytes, maxRecordBytes);
  }

  private constructor(kernel: KernelExports, dialect: CsvDialect, width: number, tokenBytes: Buffer[], maxRecordBytes: number) {
    this.#kernel = kernel;
    this.#width = width;
    const at = (what: number): number => kernel.layout(what);
    this.#at = at;
    const buffer = kernel.memory.buffer;
    this.#memory = new Uint8Array(buffer);
    this.#inputCap = at(LAYOUT.INPUT_CAP);
    this.#input = Buffer.from(buffer, at(LAYOUT.INPUT), this.#inputCap);
    this.#maxRecordBytes = Math.min(maxRecordBytes, this.#inputCap);
    this.fields = {
      starts: new Int32Array(buffer, at(LAYOUT.STARTS), width),
      ends: new Int32Array(buffer, at(LAYOUT.ENDS), width),
      flags: new Uint8Array(buffer, at(LAYOUT.FLAGS), width),
    };
    const lengths = new Int32Array(buffer, at(LAYOUT.NULL_TOKENS), tokenBytes.length);
    tokenBytes.forEach((bytes, t) => {
      lengths[t] = bytes.length;
      this.#memory.set(bytes, at(LAYOUT.NULL_TOKENS) + 4 * at(LAYOUT.MAX_NULL_TOKENS) + t * at(LAYOUT.NULL_TOKEN_BYTES));
    });
    kernel.configure(width, dialect.delimiter.charCodeAt(0), dialect.quote === null ? -1 : dialect.quote.charCodeAt(0), this.#maxRecordBytes, tokenBytes.length);
  }

  /** Records to pass over before the first one that counts (a header, rows already sent). */
  skip(records: number): void {
    this.#kernel.skip(records);
  }

  /**
   * Where the next bytes of the file go: the input region after the unfinished record. Reading
   * into it directly saves a copy and an allocation per read. Empty when a record fills it.
   */
  space(): Uint8Array {
    return this.#input.subarray(this.#carry, this.#inputCap);
  }

  /** Copies `chunk` into space(); false when it does not fit (a record longer than the region). */
  place(chunk: Uint8Array): boolean {
    if (chunk.length > this.#inputCap - this.#carry) return false;
    this.#input.set(chunk, this.#carry);
    return true;
  }

  // Starts a call over the unfinished record plus `added` bytes put into space(); none means
  // the input has ended.
  #load(added: number | undefined): number {
    const length = this.#carry + (added ?? 0);
    this.#kernel.setInput(length, added === undefined ? 1 : 0);
    return length;
  }

  // Keeps the unfinished record for the next chunk, at the front of the input region.
  #keepRest(length: number): void {
    const start = this.#kernel.recordStart();
    this.#carry = length - start;
    if (this.#carry > this.#maxRecordBytes) throw new CsvFastPathExit('record too large');
    if (this.#carry > 0 && start > 0) this.#input.copyWithin(0, start, length);
  }

  /**
   * The scan pass over `added` new bytes in space() (undefined: the end of input): folds rows, null counts and kinds
   * into `cells`, and gives `onRecord` the records that need JS.
   */
  scan(added: number | undefined, cells: CellFold, onRecord: ByteRecordHandler, told: Int32Array): void {
    const kernel = this.#kernel;
    const length = this.#load(added);
    if (!this.#checksSet) {
      this.#setChecks(cells);
      this.#checksSet = true;
    }
    this.#syncModes(cells);
    for (;;) {
      const code = kernel.scan();
      this.#foldCounts(cells);
      if (code === DONE) break;
      if (code === EXIT) throw new CsvFastPathExit(`a record the kernel leaves to the string path, near line ${kernel.currentLine()}`);
      if (code === JS_RECORD) onRecord(this.#input, kernel.currentLine());
      else if (code === NEW_KINDS) this.#foldKinds(cells, told);
      this.#syncModes(cells);
    }
    this.#keepRest(length);
  }

  /** After the last scan call: per column, the kinds the kernel decided and whether any cell needed JS. */
  scanResults(): { fastKinds: Int32Array; slowCells: Uint8Array } {
    const buffer = this.#kernel.memory.buffer;
    return {
      fastKinds: new Int32Array(buffer, this.#at(LAYOUT.FAST_KINDS), this.#width).slice(),
      slowCells: new Uint8Array(buffer, this.#at(LAYOUT.SLOW), this.#width).slice(),
    };
  }

  // For columns whose every value is checked against a fixed type: which of the kinds the kernel
  // decides are valid there. Cells of any other kind go to JS, which words the error.
  #setChecks(cells: CellFold): void {
    const accept = new Int32Array(this.#kernel.memory.buffer, this.#at(LAYOUT.ACCEPT), this.#width);
    const reject = new Int32Array(this.#kernel.memory.buffer, this.#at(LAYOUT.REJECT), this.#width);
    for (let c = 0; c < this.#width; c++) {
      accept[c] = KERNEL_KINDS.reduce((mask, kind) => (cells.conforms(c, kind) ? mask | kind : mask), 0);
      reject[c] = 0;
    }
  }

  #syncModes(cells: CellFold): void {
    this.#memory.set(cells.modes, this.#at(LAYOUT.MODES));
    const wants = this.#at(LAYOUT.WANTS_EXAMPLE);
    for (let c = 0; c < this.#width; c++) this.#memory[wants + c] = cells.wantsExample(c) ? 1 : 0;
  }

  #foldCounts(cells: CellFold): void {
    const kernel = this.#kernel;
    const rows = kernel.rowCount();
    if (rows === 0) return;
    const nulls = new Uint32Array(kernel.memory.buffer, this.#at(LAYOUT.NULLS), this.#width);
    for (let c = 0; c < this.#width; c++) {
      if (nulls[c] !== 0) {
        cells.addNulls(c, nulls[c]!);
        nulls[c] = 0;
      }
    }
    cells.addRows(rows);
    kernel.clearRows();
  }

  #foldKinds(cells: CellFold, told: Int32Array): void {
    const kinds = new Int32Array(this.#kernel.memory.buffer, this.#at(LAYOUT.KINDS), this.#width);
    for (let c = 0; c < this.#width; c++) {
      if ((kinds[c]! & ~told[c]!) !== 0) {
        told[c] = kinds[c]!;
        cells.addKind(c, kinds[c]!);
      }
    }
  }

  /** For the upload pass: the wire types, and the columns the scan proved wire-ready. */
  setTypes(types: readonly WireType[], wireReady: Uint8Array | undefined): void {
    const typesAt = this.#at(LAYOUT.TYPES);
    const readyAt = this.#at(LAYOUT.WIRE_READY);
    types.forEach((type, c) => {
      this.#memory[typesAt + c] = TYPE_CODES[type];
      this.#memory[readyAt + c] = wireReady?.[c] ?? 0;
    });
  }

  /**
   * The upload pass over `added` new bytes in space() (undefined: the end of input), as batches
   * in file order. While `sink` holds no rows, the kernel's own output is handed over as it is,
   * valid until the generator resumes; rows written around a record that needs JS go through
   * `sink` (its append and onRecord) instead, for the caller to take with its next takeBatch.
   */
  *encode(added: number | undefined, sink: KernelRowSink, bytesRead: number): Generator<EncodedBatch> {
    const kernel = this.#kernel;
    const length = this.#load(added);
    const buffer = kernel.memory.buffer;
    const outputAt = this.#at(LAYOUT.OUTPUT);
    for (;;) {
      kernel.setNeedComma(sink.pendingRows > 0 ? 1 : 0);
      const code = kernel.encode();
      const rows = kernel.rowCount();
      if (rows > 0) {
        const rowEnds = new Uint32Array(buffer, this.#at(LAYOUT.ROW_ENDS), rows);
        const lines = new Float64Array(buffer, this.#at(LAYOUT.LINES), rows);
        const size = kernel.outputLength();
        if (sink.pendingRows === 0) {
          yield { data: Buffer.from(buffer, outputAt, size), rowEnds, lines, rows, bytesRead };
        } else {
          sink.append(new Uint8Array(buffer, outputAt, size), rowEnds, lines);
        }
        kernel.clearRows();
      }
      if (code === DONE) break;
      if (code === EXIT) throw new CsvFastPathExit(`a record the kernel leaves to the string path, near line ${kernel.currentLine()}`);
      if (code === JS_RECORD) sink.onRecord(this.#input, kernel.currentLine());
      // OUTPUT_FULL: the rows were taken just above; the kernel goes on where it stopped.
    }
    this.#keepRest(length);
  }
}

/** Where the upload pass's rows go: CsvRowEncoder. */
export interface KernelRowSink {
  readonly pendingRows: number;
  /** Rows the kernel wrote: JSON bytes, each row's end offset in them, each row's line. */
  append(data: Uint8Array, rowEnds: Uint32Array, lines: Float64Array): void;
  onRecord: ByteRecordHandler;
}

