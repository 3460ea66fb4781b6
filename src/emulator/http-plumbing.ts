// Request plumbing both emulators share: listening and closing, pauses that end on close,
// reading bodies under a size limit, headers, media types, strict UTF-8. Each emulator keeps its
// own routes and error bodies.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Waits `ms`; resolves false instead when the emulator closes first. */
export type Pause = (ms: number) => Promise<boolean>;

/** An emulator's HTTP server once it listens. */
export interface ListeningEmulator {
  port: number;
  /** `http://host:port`, with an IPv6 host in brackets. */
  origin: string;
  /** Drops open connections and ends pending pauses; calling it again returns the same promise. */
  close(): Promise<void>;
}

/**
 * The pause an emulator's delayed requests use, and the listener that ends those pauses on
 * close, so delayed requests do not outlive the server.
 */
export function emulatorLifetime(): { pause: Pause; listen: (host: string, port: number, handle: (req: IncomingMessage, res: ServerResponse) => void) => Promise<ListeningEmulator> } {
  const closing = new AbortController();
  const pause: Pause = (ms) => sleep(ms, undefined, { signal: closing.signal }).then(
    () => true,
    () => false,
  );
  const listen = async (host: string, port: number, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<ListeningEmulator> => {
    const server = createServer(handle);
    // Large chunks over a slow link must not hit Node's default 5-minute request timeout.
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = (server.address() as AddressInfo).port;
    let closed: Promise<void> | undefined;
    return {
      port: bound,
      origin: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
      close: () => {
        closing.abort();
        closed ??= closeServer(server);
        return closed;
      },
    };
  };
  return { pause, listen };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

export interface ReadBody {
  bytes: Buffer;
  /** Bytes received, also past the limit. */
  size: number;
  tooLarge: boolean;
}

// Always reads the whole body, so the connection stays usable and the client sees the answer
// instead of a reset; past the limit the bytes are counted and dropped.
export function readBody(req: IncomingMessage, maxBytes: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    let tooLarge = Number.isFinite(declared) && declared > maxBytes;
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > maxBytes) tooLarge = true;
      if (tooLarge) parts.length = 0;
      else parts.push(part);
    });
    req.on('end', () => resolve({ bytes: tooLarge ? Buffer.alloc(0) : Buffer.concat(parts), size, tooLarge }));
    req.on('error', reject);
  });
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function mediaType(req: IncomingMessage): { type: string; charset: string | undefined } {
  const [type = '', ...params] = (header(req, 'content-type') ?? '').split(';');
  const charsetParam = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='));
  return { type: type.trim().toLowerCase(), charset: charsetParam?.slice('charset='.length).replace(/"/g, '') };
}

/** `application/json`, with no charset or a UTF-8 one. */
export function isJsonMediaType(req: IncomingMessage): boolean {
  const { type, charset } = mediaType(req);
  return type === 'application/json' && (charset === undefined || charset === 'utf-8' || charset === 'utf8');
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text, or undefined when it is not valid UTF-8. */
export function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
