// Large buffers reused from one chunk request to the next: touching 100 MB of fresh memory costs
// about as much in page faults as validating it, and chunks arrive one after another.

const MIN_POOLED = 1 << 20;
// Rounding up lets a slightly larger next chunk reuse the buffer.
const ROUND = 8 << 20;
// One request holds at most two (decoded data and canonical rows); a few more cover overlap.
const MAX_FREE = 3;

/** A small free list of big buffers. Everything handed out must be given back at most once. */
export class ScratchBuffers {
  private readonly free: ArrayBuffer[] = [];

  /** A buffer of exactly `size` bytes with unspecified contents. */
  take(size: number): Buffer {
    if (size < MIN_POOLED) return Buffer.allocUnsafe(size);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const candidate = this.free[i];
      if (candidate !== undefined && candidate.byteLength >= size && (best === -1 || candidate.byteLength < (this.free[best]?.byteLength ?? 0))) best = i;
    }
    const reused = best === -1 ? undefined : this.free.splice(best, 1)[0];
    const memory = reused ?? Buffer.allocUnsafeSlow(Math.ceil(size / ROUND) * ROUND).buffer;
    return Buffer.from(memory, 0, size);
  }

  /** Returns a buffer from take(); small ones are left to the garbage collector. */
  give(buffer: Buffer | undefined): void {
    if (buffer === undefined || buffer.byteOffset !== 0) return;
    const memory = buffer.buffer;
    if (!(memory instanceof ArrayBuffer) || memory.byteLength < MIN_POOLED || this.free.includes(memory)) return;
    this.free.push(memory);
    if (this.free.length > MAX_FREE) {
      this.free.sort((a, b) => b.byteLength - a.byteLength);
      this.free.length = MAX_FREE;
    }
  }
}
