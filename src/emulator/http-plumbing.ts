// Request plumbing both emulators share: reading bodies under a size limit, headers, media
// types, strict UTF-8, and closing. Each emulator keeps its own error bodies.

import type { IncomingMessage, Server } from 'node:http';

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
