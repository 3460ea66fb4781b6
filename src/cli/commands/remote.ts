// `publish` and `status`: commands that only talk to the server.

import { UsageError } from '../../errors.js';
import { waitForPublication } from '../../pipeline/publish.js';
import type { PublishStatus } from '../../targets/mstr/client.js';
import { PUBLISH_DONE_STATUS, PUBLISH_RUNNING_STATUSES } from '../../targets/mstr/client.js';
import { createRuntime } from '../context.js';
import type { CommandContext } from '../context.js';
import { formatColumnsTable } from '../format.js';

export async function runPublish(datasetId: string, opts: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const runtime = await createRuntime(opts, ctx, { server: true });
  try {
    if (runtime.settings.target === 'powerbi') return (await import('./powerbi.js')).publishOnPowerBi(datasetId, runtime);
    if (typeof opts.session !== 'string') throw new UsageError('--session <uploadSessionId> is required', { hint: 'the id create or append printed with --no-publish' });
    const sessionId = opts.session;
    const client = await runtime.connect();
    runtime.reporter.step(`publishing dataset ${datasetId}`);
    await client.publish(datasetId, sessionId, runtime.signal);
    let last: PublishStatus | undefined;
    if (opts.wait !== false) {
      last = await waitForPublication(client, datasetId, sessionId, {
        timeoutMs: runtime.settings.timeoutMs,
        pollIntervalMs: runtime.settings.pollIntervalMs,
        signal: runtime.signal,
        onStatus: (s) => runtime.reporter.step(`publishing dataset ${datasetId}: status ${s.status}${s.message ? ` (${s.message})` : ''}`),
      });
      runtime.reporter.stepDone(`dataset ${datasetId} published`);
    } else {
      runtime.reporter.stepDone(`publication of dataset ${datasetId} started`);
    }
    const published = last?.status === PUBLISH_DONE_STATUS;
    return runtime.emit({
      json: { datasetId, uploadSessionId: sessionId, published, status: last?.status ?? null, message: last?.message ?? null },
      text: published
        ? `Dataset ${datasetId} published (upload session ${sessionId}).`
        : `Publication of dataset ${datasetId} started (upload session ${sessionId}); check it with: mstrpush status ${datasetId} --session ${sessionId}`,
    });
  } finally {
    await runtime.close();
  }
}

export async function runStatus(datasetId: string, opts: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const runtime = await createRuntime(opts, ctx, { server: true });
  try {
    if (runtime.settings.target === 'powerbi') return await (await import('./powerbi.js')).statusOnPowerBi(datasetId, runtime);
    const client = await runtime.connect();
    const definition = await client.getDataset(datasetId, runtime.signal);
    let publication: (PublishStatus & { state: 'published' | 'running' | 'failed' }) | undefined;
    if (typeof opts.session === 'string') {
      const status = await client.publishStatus(datasetId, opts.session, runtime.signal);
      const state = status.status === PUBLISH_DONE_STATUS ? 'published' : PUBLISH_RUNNING_STATUSES.has(status.status) ? 'running' : 'failed';
      publication = { ...status, state };
    }
    const json = {
      datasetId: definition.id,
      name: definition.name ?? null,
      tables: definition.tables.map((t) => ({
        name: t.name,
        columns: t.columns.map((c) => ({ name: c.name, type: c.type ?? null, role: c.role ?? null })),
      })),
      ...(publication
        ? { uploadSessionId: opts.session, publication: { status: publication.status, message: publication.message, state: publication.state } }
        : {}),
    };
    const lines = [`Dataset ${definition.name ? `"${definition.name}" ` : ''}(${definition.id}): ${definition.tables.length} table${definition.tables.length === 1 ? '' : 's'}`];
    for (const table of definition.tables) {
      lines.push('', `Table ${table.name}`);
      lines.push(
        formatColumnsTable(table.columns.map((c) => ({ name: c.name, type: c.type ?? ('?' as never), role: c.role ?? ('?' as never) }))),
      );
    }
    if (publication) {
      lines.push('', `Upload session ${String(opts.session)}: ${publication.state} (status ${publication.status}${publication.message ? `, "${publication.message}"` : ''})`);
    }
    return runtime.emit({ json, text: lines.join('\n') });
  } finally {
    await runtime.close();
  }
}
