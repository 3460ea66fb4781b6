import { describe, expect, it } from '@jest/globals';
import { waitForPublication } from '../../src/pipeline/publish.js';
import type { MstrClient, PublishStatus } from '../../src/targets/mstr/client.js';

interface FakeClient {
  client: MstrClient;
  calls: Array<{ datasetId: string; sessionId: string; signal: AbortSignal | undefined }>;
}

/** A client whose publishStatus answers from a script; the last answer repeats forever. */
function fakeClient(script: PublishStatus[], onCall?: (call: number) => void): FakeClient {
  const calls: FakeClient['calls'] = [];
  const fake = {
    publishStatus: async (datasetId: string, sessionId: string, signal?: AbortSignal): Promise<PublishStatus> => {
      calls.push({ datasetId, sessionId, signal });
      onCall?.(calls.length);
      return { ...script[Math.min(calls.length, script.length) - 1]! };
    },
  };
  return { client: fake as unknown as MstrClient, calls };
}

/** A clock that only moves when told to. */
function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

async function errorOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const running = (message = 'sql execution'): PublishStatus => ({ status: 6, message });

describe('waitForPublication', () => {
  it('returns the final status once the server reports 1 after running statuses', async () => {
    const { client, calls } = fakeClient([running(), { status: 5, message: 'in sql engine' }, running(), { status: 1, message: 'result ready' }]);
    const controller = new AbortController();
    const result = await waitForPublication(client, 'D1', 'S1', { timeoutMs: 10_000, pollIntervalMs: 1, signal: controller.signal });
    expect(result).toEqual({ status: 1, message: 'result ready' });
    expect(calls).toHaveLength(4);
    expect(calls[0]).toEqual({ datasetId: 'D1', sessionId: 'S1', signal: controller.signal });
  });

  it('returns at once when the first answer is already 1', async () => {
    const { client, calls } = fakeClient([{ status: 1, message: '' }]);
    await expect(waitForPublication(client, 'D1', 'S1', { timeoutMs: 1000, pollIntervalMs: 1 })).resolves.toEqual({ status: 1, message: '' });
    expect(calls).toHaveLength(1);
  });

  it('throws PUBLISH_FAILED naming dataset, session, status and message for status 3', async () => {
    const { client, calls } = fakeClient([running(), { status: 3, message: 'Column "Amount" is not numeric' }]);
    const error = await errorOf(() => waitForPublication(client, 'DSET42', 'SESS77', { timeoutMs: 10_000, pollIntervalMs: 1 }));
    expect(error).toMatchObject({ code: 'PUBLISH_FAILED', exitCode: 7 });
    const message = (error as Error).message;
    expect(message).toContain('DSET42');
    expect(message).toContain('SESS77');
    expect(message).toContain('status 3');
    expect(message).toContain('Column "Amount" is not numeric');
    expect((error as { hint?: string }).hint).toContain('mstrpush publish DSET42 --session SESS77');
    expect(calls).toHaveLength(2);
  });

  it('treats any status outside the running set as a failure', async () => {
    for (const status of [0, 2, 7, 99, -1]) {
      const { client } = fakeClient([{ status, message: '' }]);
      const error = await errorOf(() => waitForPublication(client, 'D', 'S', { timeoutMs: 1000, pollIntervalMs: 1 }));
      expect(error).toMatchObject({ code: 'PUBLISH_FAILED' });
      expect((error as Error).message).toContain(`status ${status} (upload session S)`);
    }
  });

  it('throws PUBLISH_TIMEOUT without starting a poll after the deadline of the injected clock', async () => {
    const clock = fakeClock();
    const deadline = clock.now() + 5000;
    const startedAt: number[] = [];
    // Each poll finds the clock 700 ms later than the one before.
    const { client } = fakeClient([running('still going')], () => {
      startedAt.push(clock.now());
      clock.advance(700);
    });
    const error = await errorOf(() =>
      waitForPublication(client, 'D9', 'S9', { timeoutMs: 5000, pollIntervalMs: 1, now: clock.now }),
    );
    expect(error).toMatchObject({ code: 'PUBLISH_TIMEOUT', exitCode: 7 });
    const message = (error as Error).message;
    expect(message).toContain('D9');
    expect(message).toContain('S9');
    expect(message).toContain('within 5s');
    expect(message).toContain('last status 6 "still going"');
    expect((error as { hint?: string }).hint).toContain('mstrpush status D9 --session S9');
    expect(startedAt).toHaveLength(8);
    expect(startedAt.every((t) => t < deadline)).toBe(true);
    expect(clock.now()).toBeGreaterThanOrEqual(deadline);
  });

  it('gives up on a real clock within the timeout', async () => {
    const { client, calls } = fakeClient([running()]);
    const started = performance.now();
    const error = await errorOf(() => waitForPublication(client, 'D', 'S', { timeoutMs: 150, pollIntervalMs: 20 }));
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ code: 'PUBLISH_TIMEOUT' });
    expect((error as Error).message).toContain('within 150ms');
    expect(calls.length).toBeGreaterThan(2);
    // The loop refuses to sleep past the deadline; the slack only covers timer lateness.
    expect(elapsed).toBeLessThan(150 + 100);
  });

  it('calls onStatus only when the status or the message changes', async () => {
    const script: PublishStatus[] = [
      running('sql execution'),
      running('sql execution'),
      running('preparing'),
      { status: 5, message: 'preparing' },
      { status: 5, message: 'preparing' },
      { status: 1, message: 'result ready' },
    ];
    const { client } = fakeClient(script);
    const seen: PublishStatus[] = [];
    await waitForPublication(client, 'D', 'S', { timeoutMs: 10_000, pollIntervalMs: 1, onStatus: (s) => seen.push(s) });
    expect(seen).toEqual([
      { status: 6, message: 'sql execution' },
      { status: 6, message: 'preparing' },
      { status: 5, message: 'preparing' },
      { status: 1, message: 'result ready' },
    ]);
  });

  it('stops with INTERRUPTED when the signal aborts while waiting', async () => {
    const controller = new AbortController();
    const { client, calls } = fakeClient([running()], (call) => {
      if (call === 1) setTimeout(() => controller.abort(), 5);
    });
    const started = performance.now();
    const error = await errorOf(() =>
      waitForPublication(client, 'D', 'S', { timeoutMs: 60_000, pollIntervalMs: 10_000, signal: controller.signal }),
    );
    expect(error).toMatchObject({ code: 'INTERRUPTED', exitCode: 130 });
    expect(calls).toHaveLength(1);
    // The first sleep is 200 ms; the abort cuts it short.
    expect(performance.now() - started).toBeLessThan(150);
  });

  it('stops with INTERRUPTED when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { client } = fakeClient([running()]);
    const error = await errorOf(() => waitForPublication(client, 'D', 'S', { timeoutMs: 60_000, pollIntervalMs: 10, signal: controller.signal }));
    expect(error).toMatchObject({ code: 'INTERRUPTED' });
  });
});
