// The Power BI emulator's fault rules over real HTTP: what each action answers, and whether the
// request was applied, so the CLI's reliability tests stand on known ground.

import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Agent, request } from 'undici';
import { DEFAULT_CLIENT, DEFAULT_SCOPE, DEFAULT_TENANT, DEFAULT_WORKSPACE, startPowerBiEmulator } from '../../src/emulator/powerbi/server.js';
import type { PowerBiEmulator, PowerBiEmulatorOptions } from '../../src/emulator/powerbi/server.js';

const agent = new Agent({ keepAliveTimeout: 50, keepAliveMaxTimeout: 50 });
const running: PowerBiEmulator[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

afterAll(async () => {
  await agent.close();
});

async function start(options: PowerBiEmulatorOptions): Promise<PowerBiEmulator> {
  const emulator = await startPowerBiEmulator(options);
  running.push(emulator);
  return emulator;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

async function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  const response = await request(url, { dispatcher: agent, method: method as 'GET', headers, ...(body === undefined ? {} : { body }) });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, json: text === '' ? undefined : JSON.parse(text) };
}

/** A signed-in caller with one dataset of one table `t` (columns id, name). */
async function setUp(options: PowerBiEmulatorOptions) {
  const emulator = await start(options);
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: DEFAULT_CLIENT.clientId, client_secret: DEFAULT_CLIENT.clientSecret, scope: DEFAULT_SCOPE });
  const signIn = async () => (await send(`${emulator.authorityUrl}/${DEFAULT_TENANT}/oauth2/v2.0/token`, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, form.toString())).json.access_token as string;
  let token = await signIn();
  const base = `${emulator.apiUrl}/groups/${DEFAULT_WORKSPACE.id}`;
  const call = (method: string, path: string, body?: unknown) =>
    send(`${base}${path}`, method, { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body === undefined ? undefined : JSON.stringify(body));
  return {
    emulator,
    call,
    renew: async () => {
      token = await signIn();
    },
    create: (name = 'D') => call('POST', '/datasets', { name, tables: [{ name: 't', columns: [{ name: 'id', dataType: 'Int64' }, { name: 'name', dataType: 'String' }] }] }),
    rowCount: (datasetId: string) => emulator.state.inspectDataset(datasetId)!.tables[0]!.rowCount,
  };
}

const ROWS = { rows: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }] };

describe('Power BI emulator faults', () => {
  it('answers an injected status without applying the request, in the service’s error shape', async () => {
    const { call, create, rowCount, emulator } = await setUp({ faults: ['rows#1=503', 'create=500'] });
    const failed = await create();
    expect(failed).toMatchObject({ status: 500, json: { error: { code: 'InternalServerError', message: 'An error has occurred (emulator fault create=500)' } } });
    expect(emulator.state.summarize()).toEqual([]);
    const id = (await create()).json.id as string;
    const refused = await call('POST', `/datasets/${id}/tables/t/rows`, ROWS);
    expect(refused).toMatchObject({ status: 503, json: { error: { code: 'ServiceUnavailable' } } });
    expect(rowCount(id)).toBe(0);
    expect((await call('POST', `/datasets/${id}/tables/t/rows`, ROWS)).status).toBe(200);
    expect(rowCount(id)).toBe(2);
    expect(emulator.state.postRowsLog().map((r) => [r.status, r.rows, r.fault])).toEqual([
      [503, 2, 'rows#1=503'],
      [200, 2, undefined],
    ]);
    expect(emulator.state.faultLog.map((f) => `${f.operation}#${f.nth} ${f.action}`)).toEqual(['create#1 500', 'rows#1 503']);
  });

  it('sends Retry-After with a 429 and the bare throttling body', async () => {
    const { create } = await setUp({ faults: ['create=429:7'] });
    const reply = await create();
    expect(reply.status).toBe(429);
    expect(reply.headers['retry-after']).toBe('7');
    expect(reply.json).toEqual({ message: expect.stringContaining('(emulator fault create=429:7)') });
  });

  it('drops the connection unread with reset-before: nothing is applied', async () => {
    const { call, create, rowCount, emulator } = await setUp({ faults: ['rows=reset-before'] });
    const id = (await create()).json.id as string;
    await expect(call('POST', `/datasets/${id}/tables/t/rows`, ROWS)).rejects.toThrow();
    expect(rowCount(id)).toBe(0);
    expect(emulator.state.postRowsLog()).toEqual([expect.objectContaining({ status: 0, fault: 'rows=reset-before' })]);
  });

  it('applies the request and then drops the connection with reset-after', async () => {
    const { call, create, rowCount, emulator } = await setUp({ faults: ['rows=reset-after', 'create#2=reset-after'] });
    const id = (await create()).json.id as string;
    await expect(call('POST', `/datasets/${id}/tables/t/rows`, ROWS)).rejects.toThrow();
    expect(rowCount(id)).toBe(2);
    await expect(create('Second')).rejects.toThrow();
    expect(emulator.state.summarize().map((d) => d.name)).toEqual(['D', 'Second']);
  });

  it('holds a request for delay:<ms> before handling it', async () => {
    const { call } = await setUp({ faults: ['datasets=delay:300'] });
    const started = Date.now();
    expect((await call('GET', '/datasets')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('expires the caller’s token with expire-token, so the request gets 403 TokenExpired until it signs in again', async () => {
    const { call, create, renew } = await setUp({ faults: ['tables=expire-token'] });
    const id = (await create()).json.id as string;
    const expired = await call('GET', `/datasets/${id}/tables`);
    expect(expired).toMatchObject({ status: 403, json: { error: { code: 'TokenExpired' } } });
    await renew();
    expect((await call('GET', `/datasets/${id}/tables`)).status).toBe(200);
  });

  it('fails token requests in the Entra shape', async () => {
    const emulator = await start({ faults: ['token=503'] });
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: DEFAULT_CLIENT.clientId, client_secret: DEFAULT_CLIENT.clientSecret, scope: DEFAULT_SCOPE });
    const reply = await send(`${emulator.authorityUrl}/${DEFAULT_TENANT}/oauth2/v2.0/token`, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, form.toString());
    expect(reply).toMatchObject({ status: 503, json: { error: 'temporarily_unavailable' } });
    expect(emulator.state.stats.tokensIssued).toBe(0);
  });

  it('refuses an invalid rule when started', async () => {
    await expect(startPowerBiEmulator({ faults: ['rows=teapot'] })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
