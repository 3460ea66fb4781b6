// Publishes an upload session and waits for the server to finish, with a deadline. The official
// client polls forever and never notices a failed publication; this loop ends either way.

import { PartialUploadError } from '../errors.js';
import { PUBLISH_DONE_STATUS, PUBLISH_RUNNING_STATUSES } from '../targets/mstr/client.js';
import type { MstrClient, PublishStatus } from '../targets/mstr/client.js';
import { sleep } from '../util/sleep.js';

export interface PublishWaitOptions {
  timeoutMs: number;
  /** Upper bound of the polling interval; polling starts faster so small loads finish quickly. */
  pollIntervalMs: number;
  signal?: AbortSignal;
  now?: () => number;
  onStatus?: (status: PublishStatus) => void;
}

const FIRST_POLL_MS = 200;
const POLL_GROWTH = 1.5;

export async function waitForPublication(
  client: MstrClient,
  datasetId: string,
  sessionId: string,
  options: PublishWaitOptions,
): Promise<PublishStatus> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  let interval = Math.min(FIRST_POLL_MS, options.pollIntervalMs);
  let last: PublishStatus | undefined;
  for (;;) {
    const previous = last;
    last = await client.publishStatus(datasetId, sessionId, options.signal);
    if (!previous || previous.status !== last.status || previous.message !== last.message) options.onStatus?.(last);
    if (last.status === PUBLISH_DONE_STATUS) return last;
    if (!PUBLISH_RUNNING_STATUSES.has(last.status)) {
      throw new PartialUploadError(
        `publication of dataset ${datasetId} failed: status ${last.status}${last.message ? ` "${last.message}"` : ''} (upload session ${sessionId})`,
        {
          code: 'PUBLISH_FAILED',
          hint: `the data was uploaded but not published; the server refused it. Fix the cause and load again, or retry with: mstrpush publish ${datasetId} --session ${sessionId}`,
        },
      );
    }
    if (now() + interval > deadline) {
      throw new PartialUploadError(
        `publication of dataset ${datasetId} did not finish within ${formatMs(options.timeoutMs)}: last status ${last.status}${last.message ? ` "${last.message}"` : ''} (upload session ${sessionId})`,
        {
          code: 'PUBLISH_TIMEOUT',
          hint: `the server may still finish it; check with: mstrpush status ${datasetId} --session ${sessionId} (or wait longer with --timeout)`,
        },
      );
    }
    await sleep(interval, options.signal);
    interval = Math.min(interval * POLL_GROWTH, options.pollIntervalMs);
  }
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
