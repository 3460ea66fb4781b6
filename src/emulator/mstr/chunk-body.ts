// Reads the body of a chunk PUT. The usual `{"tableName":"T","index":1,"data":"<base64>"}` is
// recognised byte by byte and its base64 decoded while it arrives, so a 133 MB body never becomes
// a JS string; any other body is kept as raw bytes for the strict general parser to rule on.

import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { ReadBody } from '../http-plumbing.js';
import type { ScratchBuffers } from './scratch.js';

/** A chunk request read from a body in the usual shape whose data is canonical base64. */
export interface DecodedChunkRequest {
  tableName: string;
  index: number;
  /** The decoded data; scratch memory, to be given back once the request is answered. */
  data: Buffer;
}

export interface ChunkBody extends ReadBody {
  /** Set when the body had the usual shape and canonical base64; `bytes` is then empty. */
  request: DecodedChunkRequest | undefined;
}

/** readBody for chunk PUTs: same size rules, plus the decoded request when the body allows. */
export function readChunkBody(req: IncomingMessage, maxBytes: number, scratch: ScratchBuffers): Promise<ChunkBody> {
  return new Promise((resolve, reject) => {
    const lengthHeader = req.headers['content-length'];
    const declared = Number(lengthHeader ?? '0');
    let tooLarge = Number.isFinite(declared) && declared > maxBytes;
    const decoder = new ChunkBodyDecoder(lengthHeader === undefined || !Number.isSafeInteger(declared) ? undefined : declared, scratch);
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > maxBytes && !tooLarge) {
        tooLarge = true;
        decoder.discard();
      }
      if (!tooLarge) decoder.push(part);
    });
    req.on('end', () => {
      if (tooLarge) {
        decoder.discard();
        resolve({ bytes: Buffer.alloc(0), size, tooLarge, request: undefined });
        return;
      }
      const { bytes, request } = decoder.finish();
      resolve({ bytes, size, tooLarge, request });
    });
    req.on('error', (error) => {
      decoder.discard();
      reject(error);
    });
  });
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const ZERO = 0x30;
const NINE = 0x39;
const EQUALS = 0x3d;
const HEAD = Buffer.from('{"tableName":"');
const INDEX_KEY = Buffer.from('","index":');
const DATA_KEY = Buffer.from(',"data":"');
const TAIL = Buffer.from('"}');
const MAX_INDEX = 2147483647;
// A head not complete within this many bytes is not the usual shape (table names are short).
const HEAD_LIMIT = 16 * 1024;
const NEED_MORE = 0;
const NOT_USUAL = -1;

const BASE64_VALUE = new Int8Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
  BASE64_VALUE[c.charCodeAt(0)] = i;
});

/**
 * The state machine behind readChunkBody, fed the body's parts in order. Knowing the length up
 * front lets it hold back the last base64 group and the closing `"}` and stream the rest.
 */
export class ChunkBodyDecoder {
  private mode: 'head' | 'data' | 'raw';
  /** Raw parts: the head so far, or the whole body once it is not the usual shape. */
  private parts: Buffer[] = [];
  private size = 0;
  private tableName = '';
  private index = 0;
  /** The body up to the data text. */
  private prefix = Buffer.alloc(0);
  private decoded: Buffer | undefined;
  private written = 0;
  /** Up to three base64 characters of an unfinished group. */
  private carry = '';
  /** The body's last six bytes: the final base64 group and `"}`. */
  private tail: number[] = [];
  /** Body offset where the final base64 group starts. */
  private lastGroup = 0;

  constructor(
    private readonly length: number | undefined,
    private readonly scratch: ScratchBuffers,
  ) {
    this.mode = length === undefined || length < HEAD.length + INDEX_KEY.length + DATA_KEY.length + 7 ? 'raw' : 'head';
  }

  push(part: Buffer): void {
    const offset = this.size;
    this.size += part.length;
    if (this.mode === 'data') {
      this.pushData(part, offset);
    } else {
      this.parts.push(part);
      if (this.mode === 'head') this.readHead();
    }
  }

  /** The decoded request, or the raw body when it was anything else. */
  finish(): { bytes: Buffer; request: DecodedChunkRequest | undefined } {
    if (this.mode === 'data') {
      if (this.size === this.length && this.carry === '' && this.finalGroup()) {
        const data = (this.decoded ?? Buffer.alloc(0)).subarray(0, this.written);
        this.decoded = undefined;
        return { bytes: Buffer.alloc(0), request: { tableName: this.tableName, index: this.index, data } };
      }
      this.toRaw(undefined);
    }
    return { bytes: Buffer.concat(this.parts), request: undefined };
  }

  /** Gives back scratch memory when the body will not be used. */
  discard(): void {
    this.scratch.give(this.decoded);
    this.decoded = undefined;
    this.parts = [];
    this.mode = 'raw';
  }

  private readHead(): void {
    const head = this.parts.length === 1 ? (this.parts[0] ?? Buffer.alloc(0)) : Buffer.concat(this.parts);
    const dataStart = this.parseHead(head);
    if (dataStart === NEED_MORE) {
      if (head.length > HEAD_LIMIT) this.mode = 'raw';
      return;
    }
    const length = this.length ?? 0;
    const dataLength = length - TAIL.length - dataStart;
    if (dataStart === NOT_USUAL || dataLength < 4 || dataLength % 4 !== 0) {
      this.mode = 'raw';
      return;
    }
    this.prefix = Buffer.from(head.subarray(0, dataStart));
    this.decoded = this.scratch.take((dataLength / 4) * 3);
    this.lastGroup = length - TAIL.length - 4;
    this.mode = 'data';
    this.parts = [];
    this.pushData(head.subarray(dataStart), dataStart);
  }

  // `{"tableName":"<no escapes>","index":<n or "n">,"data":"` exactly: where the data text
  // starts, NEED_MORE, or NOT_USUAL for anything else, which the general parser then reads.
  private parseHead(head: Buffer): number {
    let i = matchAt(head, 0, HEAD);
    if (i <= 0) return i;
    const nameStart = i;
    for (;;) {
      const c = head[i];
      if (c === undefined) return NEED_MORE;
      if (c === QUOTE) break;
      if (c === BACKSLASH || c < 0x20) return NOT_USUAL;
      i++;
    }
    if (!isUtf8(head.subarray(nameStart, i))) return NOT_USUAL;
    const tableName = head.toString('utf8', nameStart, i);
    i = matchAt(head, i, INDEX_KEY);
    if (i <= 0) return i;
    const quoted = head[i] === QUOTE;
    if (quoted) i++;
    const digitsStart = i;
    for (let c = head[i]; c !== undefined && c >= ZERO && c <= NINE; c = head[i]) i++;
    if (i >= head.length) return NEED_MORE;
    const digits = i - digitsStart;
    if (digits === 0 || digits > 10 || head[digitsStart] === ZERO) return NOT_USUAL;
    const index = Number(head.toString('latin1', digitsStart, i));
    if (index > MAX_INDEX) return NOT_USUAL;
    if (quoted) {
      if (head[i] !== QUOTE) return NOT_USUAL;
      i++;
    }
    i = matchAt(head, i, DATA_KEY);
    if (i <= 0) return i;
    this.tableName = tableName;
    this.index = index;
    return i;
  }

  // Decodes the part's share of the data text (all but the final group), then keeps what lies
  // beyond as the tail. On any doubt the body so far is rebuilt and kept raw instead.
  private pushData(part: Buffer, offset: number): void {
    const carry = this.carry;
    const written = this.written;
    const tailLength = this.tail.length;
    const streamTo = Math.max(0, Math.min(part.length, this.lastGroup - offset));
    if (this.decodeText(part, 0, streamTo) && tailLength + part.length - streamTo <= 6) {
      for (let i = streamTo; i < part.length; i++) this.tail.push(part[i] ?? 0);
      return;
    }
    this.carry = carry;
    this.written = written;
    this.tail.length = tailLength;
    this.toRaw(part);
  }

  private decodeText(part: Buffer, from: number, to: number): boolean {
    let at = from;
    if (this.carry !== '') {
      const need = 4 - this.carry.length;
      if (to - at < need) {
        this.carry += part.toString('latin1', at, to);
        return true;
      }
      if (!this.decodeGroups(this.carry + part.toString('latin1', at, at + need))) return false;
      at += need;
      this.carry = '';
    }
    const usable = (to - at) & ~3;
    if (usable > 0 && !this.decodeGroups(part.toString('latin1', at, at + usable))) return false;
    this.carry = part.toString('latin1', at + usable, to);
    return true;
  }

  // Node's decoder takes the URL-safe alphabet and skips or stops at anything else outside the
  // standard alphabet, and a skipped character or an early `=` leaves fewer than three bytes per
  // four characters. So full output without `-` or `_` means every character was standard, and
  // groups without padding have no unused bits: the text is canonical.
  private decodeGroups(text: string): boolean {
    const decoded = this.decoded;
    if (decoded === undefined) return false;
    const n = decoded.write(text, this.written, 'base64');
    if (n !== (text.length / 4) * 3 || text.includes('-') || text.includes('_')) return false;
    this.written += n;
    return true;
  }

  // The held-back final group, with the padding rules of canonical base64, then `"}`.
  private finalGroup(): boolean {
    const [c0 = 0, c1 = 0, c2 = 0, c3 = 0, q = 0, brace = 0] = this.tail;
    const decoded = this.decoded;
    if (this.tail.length !== 6 || q !== TAIL[0] || brace !== TAIL[1] || decoded === undefined) return false;
    const v0 = BASE64_VALUE[c0] ?? -1;
    const v1 = BASE64_VALUE[c1] ?? -1;
    if (v0 < 0 || v1 < 0) return false;
    let w = this.written;
    decoded[w++] = (v0 << 2) | (v1 >> 4);
    if (c2 === EQUALS) {
      if (c3 !== EQUALS || (v1 & 0x0f) !== 0) return false;
    } else {
      const v2 = BASE64_VALUE[c2] ?? -1;
      if (v2 < 0) return false;
      decoded[w++] = ((v1 & 0x0f) << 4) | (v2 >> 2);
      if (c3 === EQUALS) {
        if ((v2 & 0x03) !== 0) return false;
      } else {
        const v3 = BASE64_VALUE[c3] ?? -1;
        if (v3 < 0) return false;
        decoded[w++] = ((v2 & 0x03) << 6) | v3;
      }
    }
    this.written = w;
    return true;
  }

  // Everything accepted so far was canonical base64, so re-encoding it gives back the exact
  // bytes received; `part` (not yet accounted for) follows them.
  private toRaw(part: Buffer | undefined): void {
    const decoded = this.decoded ?? Buffer.alloc(0);
    this.parts = [
      this.prefix,
      Buffer.from(decoded.toString('base64', 0, this.written), 'latin1'),
      Buffer.from(this.carry, 'latin1'),
      Buffer.from(this.tail),
      ...(part === undefined ? [] : [part]),
    ];
    this.scratch.give(this.decoded);
    this.decoded = undefined;
    this.mode = 'raw';
  }
}

// The position after `expected` at `at`, NEED_MORE when the bytes end first, or NOT_USUAL.
function matchAt(bytes: Buffer, at: number, expected: Buffer): number {
  for (let k = 0; k < expected.length; k++) {
    const c = bytes[at + k];
    if (c === undefined) return NEED_MORE;
    if (c !== expected[k]) return NOT_USUAL;
  }
  return at + expected.length;
}
