// The Power BI emulator over real HTTP: token endpoint, dataset calls, strict body checks and
// every documented limit answered with 429 and Retry-After.

import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Agent, request } from 'undici';
import { DEFAULT_CLIENT, DEFAULT_SCOPE, DEFAULT_TENANT, DEFAULT_WORKSPACE, describeSwitches, startPowerBiEmulator } from '../../src/emulator/powerbi/server.js';
import type { PowerBiEmulator, PowerBiEmulatorOptions } from '../../src/emulator/powerbi/server.js';

const agent = new Agent({ keepAliveTimeout: 50, keepAliveMaxTimeout: 50 });
const running: PowerBiEmulator[] = [];
const GROUP = DEFAULT_WORKSPACE.id;

afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

afterAll(async () => {
  await agent.close();
});

async function start(options: PowerBiEmulatorOptions = {}): Promise<PowerBiEmulator> {
  const emulator = await startPowerBiEmulator(options);
  running.push(emulator);
  return emulator;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

async function send(url: string, method: string, headers: Record<string, string>, body?: string | Buffer): Promise<Reply> {
  const response = await request(url, { dispatcher: agent, method: method as 'GET', headers, ...(body === undefined ? {} : { body }) });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

function tokenRequest(emulator: PowerBiEmulator, fields: Record<string, string>, tenant = DEFAULT_TENANT): Promise<Reply> {
  return send(
    `${emulator.authorityUrl}/${tenant}/oauth2/v2.0/token`,
    'POST',
    { 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams(fields).toString(),
  );
}

const GOOD_FORM = { grant_type: 'client_credentials', client_id: DEFAULT_CLIENT.clientId, client_secret: DEFAULT_CLIENT.clientSecret, scope: DEFAULT_SCOPE };

async function signIn(emulator: PowerBiEmulator): Promise<string> {
  const reply = await tokenRequest(emulator, GOOD_FORM);
  expect(reply.status).toBe(200);
  return reply.json.access_token as string;
}

/** A signed-in caller of the workspace (or My workspace with group null). */
async function caller(emulator: PowerBiEmulator, group: string | null = GROUP) {
  let token = await signIn(emulator);
  const base = `${emulator.apiUrl}${group === null ? '' : `/groups/${group}`}`;
  return {
    base,
    renew: async () => {
      token = await signIn(emulator);
    },
    call(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Reply> {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...extra };
      let payload: string | Buffer | undefined;
      if (body !== undefined) {
        headers['content-type'] ??= 'application/json';
        payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      }
      return send(`${base}${path}`, method, headers, payload);
    },
  };
}

const SALES = {
  name: 'Sales',
  tables: [
    {
      name: 'sales',
      columns: [
        { name: 'id', dataType: 'Int64' },
        { name: 'amount', dataType: 'Double' },
        { name: 'price', dataType: 'Decimal' },
        { name: 'paid', dataType: 'bool' },
        { name: 'at', dataType: 'datetime' },
        { name: 'note', dataType: 'string' },
      ],
    },
  ],
};

async function createSales(c: Awaited<ReturnType<typeof caller>>, query = ''): Promise<string> {
  const reply = await c.call('POST', `/datasets${query}`, SALES);
  expect(reply.status).toBe(201);
  return reply.json.id as string;
}

describe('token endpoint', () => {
  it('issues a bearer token for the client credentials grant', async () => {
    const emulator = await start();
    const reply = await tokenRequest(emulator, GOOD_FORM);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
    const payload = JSON.parse(Buffer.from(String(reply.json.access_token).split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ aud: 'https://analysis.windows.net/powerbi/api', tid: DEFAULT_TENANT, appid: DEFAULT_CLIENT.clientId });
  });

  it('sends expires_in as a string when told to, as the v1 endpoint does', async () => {
    const emulator = await start({ expiresInAsString: true });
    expect((await tokenRequest(emulator, GOOD_FORM)).json.expires_in).toBe('3599');
  });

  it('accepts the client secret as HTTP Basic credentials', async () => {
    const emulator = await start();
    const basic = Buffer.from(`${DEFAULT_CLIENT.clientId}:${DEFAULT_CLIENT.clientSecret}`).toString('base64');
    const reply = await send(
      `${emulator.authorityUrl}/${DEFAULT_TENANT}/oauth2/v2.0/token`,
      'POST',
      { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      new URLSearchParams({ grant_type: 'client_credentials', scope: DEFAULT_SCOPE }).toString(),
    );
    expect(reply.status).toBe(200);
  });

  it.each([
    ['a wrong secret', { ...GOOD_FORM, client_secret: 'nope' }, DEFAULT_TENANT, 'invalid_client', 7000215],
    ['an unknown client', { ...GOOD_FORM, client_id: 'someone-else' }, DEFAULT_TENANT, 'unauthorized_client', 700016],
    ['another scope', { ...GOOD_FORM, scope: 'https://graph.microsoft.com/.default' }, DEFAULT_TENANT, 'invalid_scope', 70011],
    ['another grant', { ...GOOD_FORM, grant_type: 'password' }, DEFAULT_TENANT, 'unsupported_grant_type', 70003],
    ['an unknown tenant', GOOD_FORM, 'contoso.example', 'invalid_request', 90002],
    ['the common tenant', GOOD_FORM, 'common', 'invalid_request', 50059],
  ])('answers 400 in the documented shape for %s', async (_what, form, tenant, error, code) => {
    const emulator = await start();
    const reply = await tokenRequest(emulator, form, tenant);
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ error, error_codes: [code] });
    expect(reply.json.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(Object.keys(reply.json).sort()).toEqual(['correlation_id', 'error', 'error_codes', 'error_description', 'timestamp', 'trace_id']);
  });

  it('refuses a JSON body: token requests are form-encoded', async () => {
    const emulator = await start();
    const reply = await send(`${emulator.authorityUrl}/${DEFAULT_TENANT}/oauth2/v2.0/token`, 'POST', { 'content-type': 'application/json' }, JSON.stringify(GOOD_FORM));
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe('invalid_request');
  });
});

describe('authentication and workspaces', () => {
  it('answers 401 without a token', async () => {
    const emulator = await start();
    const reply = await send(`${emulator.apiUrl}/groups/${GROUP}/datasets`, 'GET', {});
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  it('answers 403 TokenExpired with the documented body once a token has expired', async () => {
    const emulator = await start({ tokenLifetimeSeconds: 0.2 });
    const c = await caller(emulator);
    expect((await c.call('GET', '/datasets')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const reply = await c.call('GET', '/datasets');
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual({ error: { code: 'TokenExpired', message: 'Access token has expired, resubmit with a new access token' } });
    await c.renew();
    expect((await c.call('GET', '/datasets')).status).toBe(200);
  });

  it('expires every issued token on request, for tests of renewal', async () => {
    const emulator = await start();
    const c = await caller(emulator);
    expect((await send(`${emulator.authorityUrl}/__emulator/expire-tokens`, 'POST', {})).status).toBe(204);
    expect((await c.call('GET', '/datasets')).json.error.code).toBe('TokenExpired');
  });

  it('refuses My workspace to service principals unless told to allow it', async () => {
    const strict = await start();
    expect((await (await caller(strict, null)).call('GET', '/datasets')).status).toBe(403);
    const lenient = await start({ myWorkspace: 'allow' });
    const c = await caller(lenient, null);
    const id = await createSales(c);
    expect((await c.call('GET', `/datasets/${id}`)).json).toMatchObject({ id, name: 'Sales', addRowsAPIEnabled: true });
  });

  it('answers 404 PowerBIEntityNotFound for an unknown workspace or dataset', async () => {
    const emulator = await start();
    const other = await caller(emulator, '00000000-0000-0000-0000-000000000000');
    const reply = await other.call('GET', '/datasets');
    expect(reply.status).toBe(404);
    expect(reply.json.error['pbi.error'].code).toBe('PowerBIEntityNotFound');
    expect((await (await caller(emulator)).call('GET', '/datasets/3f8e0c6a-0000-4000-8000-000000000000')).json.error.code).toBe('PowerBIEntityNotFound');
  });

  it('lists workspaces with the OData filters the API documents', async () => {
    const emulator = await start({ workspaces: [{ id: GROUP, name: 'Sales team' }, { id: 'b1', name: 'Finance' }] });
    expect((await send(`${emulator.apiUrl}/groups`, 'GET', {})).status).toBe(401);
    const token = await signIn(emulator);
    const list = async (query: string) =>
      (await send(`${emulator.apiUrl}/groups${query}`, 'GET', { authorization: `Bearer ${token}` })).json.value.map((g: { name: string }) => g.name);
    expect(await list('')).toEqual(['Sales team', 'Finance']);
    expect(await list(`?$filter=${encodeURIComponent("name eq 'Finance'")}`)).toEqual(['Finance']);
    expect(await list(`?$filter=${encodeURIComponent("contains(name,'team')")}`)).toEqual(['Sales team']);
    expect(await list('?$top=1&$skip=1')).toEqual(['Finance']);
  });
});

describe('create dataset', () => {
  it('answers 201 with id, name and retention, and takes type names in any case and bool', async () => {
    const emulator = await start();
    const c = await caller(emulator);
    const reply = await c.call('POST', '/datasets?defaultRetentionPolicy=basicFifo', SALES);
    expect(reply.status).toBe(201);
    expect(reply.json).toMatchObject({ name: 'Sales', defaultRetentionPolicy: 'basicFIFO' });
    expect(reply.json['@odata.context']).toMatch(/\$metadata#datasets\/\$entity$/);
    expect(emulator.state.inspectDataset(reply.json.id)!.tables[0]!.columns.map((col) => col.dataType)).toEqual([
      'Int64',
      'Double',
      'Decimal',
      'Boolean',
      'DateTime',
      'String',
    ]);
  });

  it('answers 202 Accepted when told to', async () => {
    const emulator = await start({ acceptedCreate: true });
    expect((await (await caller(emulator)).call('POST', '/datasets', SALES)).status).toBe(202);
  });

  it.each([
    ['an unknown property', { ...SALES, compatibilityLevel: 1550 }, "The property 'compatibilityLevel' does not exist on type 'Microsoft.PowerBI.ServiceContracts.Api.Dataset'"],
    ['a miscased property', { name: 'x', tables: [{ name: 't', columns: [{ name: 'a', datatype: 'Int64' }] }] }, "The property 'datatype' does not exist on type"],
    ['an unknown type alias', { name: 'x', tables: [{ name: 't', columns: [{ name: 'a', dataType: 'int' }] }] }, "The dataType 'int' of column 'a' is not supported"],
    ['a table name with a dot', { name: 'x', tables: [{ name: 'a.b', columns: [{ name: 'a', dataType: 'String' }] }] }, "The table name 'a.b' is not valid"],
    ['columns differing in case', { name: 'x', tables: [{ name: 't', columns: [{ name: 'a', dataType: 'String' }, { name: 'A', dataType: 'String' }] }] }, 'more than one column named'],
  ])('answers 400 BadRequest with details for %s', async (_what, body, message) => {
    const emulator = await start();
    const reply = await (await caller(emulator)).call('POST', '/datasets', body);
    expect(reply.status).toBe(400);
    expect(reply.json.error.code).toBe('BadRequest');
    expect(reply.json.error.details[0].message).toContain(message);
  });

  it('refuses 76 columns and 76 tables', async () => {
    const emulator = await start();
    const c = await caller(emulator);
    const columns = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `c${i}`, dataType: 'String' }));
    const wide = await c.call('POST', '/datasets', { name: 'w', tables: [{ name: 't', columns: columns(76) }] });
    expect(wide.status).toBe(400);
    expect(wide.json.error.message).toContain('at most 75');
    expect((await c.call('POST', '/datasets', { name: 'w', tables: [{ name: 't', columns: columns(75) }] })).status).toBe(201);
    const many = await c.call('POST', '/datasets', { name: 'm', tables: Array.from({ length: 76 }, (_, i) => ({ name: `t${i}`, columns: columns(1) })) });
    expect(many.status).toBe(400);
  });

  it('refuses an unknown retention policy', async () => {
    const emulator = await start();
    expect((await (await caller(emulator)).call('POST', '/datasets?defaultRetentionPolicy=forever', SALES)).status).toBe(400);
  });

  it('lists table names only, unless told to list columns', async () => {
    const strict = await start();
    const c = await caller(strict);
    const id = await createSales(c);
    expect((await c.call('GET', `/datasets/${id}/tables`)).json.value).toEqual([{ name: 'sales' }]);
    const lenient = await start({ tablesWithColumns: true });
    const d = await caller(lenient);
    const other = await createSales(d);
    expect((await d.call('GET', `/datasets/${other}/tables`)).json.value[0].columns[3]).toEqual({ name: 'paid', dataType: 'Boolean' });
  });
});

describe('post rows', () => {
  it('stores values in canonical form, missing columns as null', async () => {
    const emulator = await start();
    const c = await caller(emulator);
    const id = await createSales(c);
    const body =
      '{"rows":[{"id":1,"amount":1.50,"price":12.3400,"paid":true,"at":"2024-03-01T00:30:00+02:00","note":"a"},' +
      '{"id":"9007199254740993","amount":"2","paid":"False","at":"07/30/2014"},{"at":"2024-03-01T09:30:00.1200000"}]}';
    const reply = await c.call('POST', `/datasets/${id}/tables/sales/rows`, body);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
    expect(emulator.state.inspectDataset(id)!.tables[0]!.rows).toEqual([
      ['1', '1.5', '12.3400', true, '2024-02-29T22:30:00Z', 'a'],
      ['9007199254740993', '2', null, false, '2014-07-30T00:00:00', null],
      [null, null, null, null, '2024-03-01T09:30:00.12', null],
    ]);
  });

  it.each([
    ['a bare array', '[{"id":1}]', 'not a bare array'],
    ['an unknown property', '{"rows":[],"extra":1}', "The property 'extra' does not exist"],
    ['a key that is not a column', '{"rows":[{"ID":1}]}', "the key 'ID', which is not a column"],
    ['text in an Int64 column', '{"rows":[{"id":"abc"}]}', 'is not a valid Int64 value'],
    ['a fraction in an Int64 column', '{"rows":[{"id":1.5}]}', 'is not a valid Int64 value'],
    ['Int64.MaxValue', '{"rows":[{"id":9223372036854775807}]}', 'Int64.MaxValue'],
    ['a Decimal too large', '{"rows":[{"price":1e24}]}', 'at most 24 digits'],
    ['an invalid date', '{"rows":[{"at":"2023-02-29"}]}', 'is not a valid DateTime value'],
    ['a number in a String column', '{"rows":[{"note":5}]}', 'is not a valid String value'],
    ['a string over 4,000 characters', `{"rows":[{"note":"${'x'.repeat(4001)}"}]}`, 'limited to 4000 characters'],
  ])('answers 400 for %s', async (_what, body, message) => {
    const emulator = await start();
    const c = await caller(emulator);
    const id = await createSales(c);
    const reply = await c.call('POST', `/datasets/${id}/tables/sales/rows`, body);
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.json)).toContain(message.replace(/"/g, '\\"'));
    expect(emulator.state.inspectDataset(id)!.tables[0]!.rowCount).toBe(0);
  });

  it('ignores unknown keys when told to', async () => {
    const emulator = await start({ unknownRowKeys: 'ignore' });
    const c = await caller(emulator);
    const id = await createSales(c);
    expect((await c.call('POST', `/datasets/${id}/tables/sales/rows`, '{"rows":[{"id":1,"ID":2}]}')).status).toBe(200);
  });

  it('answers 400 for more than 10,000 rows and 413 for a body over the size limit', async () => {
    const emulator = await start({ maxBodyBytes: 200_000 });
    const c = await caller(emulator);
    const id = await createSales(c);
    const rows = (n: number) => JSON.stringify({ rows: Array.from({ length: n }, () => ({})) });
    expect((await c.call('POST', `/datasets/${id}/tables/sales/rows`, rows(10_000))).status).toBe(200);
    const tooMany = await c.call('POST', `/datasets/${id}/tables/sales/rows`, rows(10_001));
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.message).toContain('at most 10000 rows');
    const big = await c.call('POST', `/datasets/${id}/tables/sales/rows`, JSON.stringify({ rows: [{ note: 'x'.repeat(200_000) }] }));
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('RequestEntityTooLarge');
  });

  it('answers 404 ItemNotFound for an unknown table, matched case-sensitively', async () => {
    const emulator = await start();
    const c = await caller(emulator);
    const id = await createSales(c);
    const reply = await c.call('POST', `/datasets/${id}/tables/Sales/rows`, '{"rows":[]}');
    expect(reply.status).toBe(404);
    expect(reply.json.error).toEqual({ code: 'ItemNotFound', message: `Table 'Sales' not found in dataset '${id}'` });
  });

  it('deletes every row of a table', async () => {
    const emulator = await start();
    const c = await caller(emulator);
    const id = await createSales(c);
    await c.call('POST', `/datasets/${id}/tables/sales/rows`, '{"rows":[{"id":1},{"id":2}]}');
    expect((await c.call('DELETE', `/datasets/${id}/tables/sales/rows`)).status).toBe(200);
    expect(emulator.state.inspectDataset(id)!.tables[0]!.rowCount).toBe(0);
  });

  it('keeps the newest 200,000 rows once a basicFIFO table passes 210,000', async () => {
    const emulator = await start({ keepRows: false });
    const c = await caller(emulator);
    const id = await createSales(c, '?defaultRetentionPolicy=basicFIFO');
    const batch = JSON.stringify({ rows: Array.from({ length: 10_000 }, () => ({ id: 1 })) });
    for (let i = 0; i < 21; i++) expect((await c.call('POST', `/datasets/${id}/tables/sales/rows`, batch)).status).toBe(200);
    expect(emulator.state.inspectDataset(id)!.tables[0]!.rowCount).toBe(210_000);
    await c.call('POST', `/datasets/${id}/tables/sales/rows`, batch);
    expect(emulator.state.inspectDataset(id)!.tables[0]!.rowCount).toBe(200_000);
  });

  it('replaces a table’s columns with Put Table, keeping values of unchanged columns', async () => {
    const emulator = await start();
    const c = await caller(emulator);
    const id = await createSales(c);
    await c.call('POST', `/datasets/${id}/tables/sales/rows`, '{"rows":[{"id":7,"note":"n"}]}');
    const put = await c.call('PUT', `/datasets/${id}/tables/sales`, { name: 'sales', columns: [{ name: 'id', dataType: 'Int64' }, { name: 'extra', dataType: 'String' }] });
    expect(put.status).toBe(200);
    expect(emulator.state.inspectDataset(id)!.tables[0]!.rows).toEqual([['7', null]]);
  });
});

describe('limits', () => {
  const post = (c: Awaited<ReturnType<typeof caller>>, id: string, rows = 1) =>
    c.call('POST', `/datasets/${id}/tables/sales/rows`, JSON.stringify({ rows: Array.from({ length: rows }, (_, i) => ({ id: i })) }));

  it('answers 429 with an integer Retry-After and a message past the requests per minute, and accepts again after it', async () => {
    const emulator = await start({ postsPerMinute: 5, timeScale: 60 });
    const c = await caller(emulator);
    const id = await createSales(c);
    for (let i = 0; i < 5; i++) expect((await post(c, id)).status).toBe(200);
    const throttled = await post(c, id);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('1');
    expect(Object.keys(throttled.json)).toEqual(['message']);
    expect(throttled.json.message).toContain('Retry in 1 seconds');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await post(c, id)).status).toBe(200);
    expect(emulator.state.stats.throttled['posts-per-minute']).toBe(1);
  });

  it('answers 429 "Maximum number of rows exceeded" past the rows per hour', async () => {
    const emulator = await start({ rowsPerHour: 25, timeScale: 3600 });
    const c = await caller(emulator);
    const id = await createSales(c);
    expect((await post(c, id, 20)).status).toBe(200);
    const throttled = await post(c, id, 10);
    expect(throttled.status).toBe(429);
    expect(throttled.json).toEqual({ message: 'Maximum number of rows exceeded in time window. Please retry later' });
    expect(Number(throttled.headers['retry-after'])).toBe(1);
    expect((await post(c, id, 5)).status).toBe(200);
  });

  it('answers 429 past 120 requests per hour once the table holds 250,000 rows (scaled down)', async () => {
    const emulator = await start({ bigTableRows: 3, postsPerHourBigTable: 4 });
    const c = await caller(emulator);
    const id = await createSales(c);
    for (let i = 0; i < 4; i++) expect((await post(c, id)).status).toBe(200);
    const throttled = await post(c, id);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(3500);
    expect(emulator.state.stats.throttled['posts-per-hour']).toBe(1);
  });

  it('answers 429 past the pending requests per dataset', async () => {
    const emulator = await start({ maxPending: 2, postRowsDelayMs: 200 });
    const c = await caller(emulator);
    const id = await createSales(c);
    const replies = await Promise.all([post(c, id), post(c, id), post(c, id)]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 429]);
    expect(replies.find((r) => r.status === 429)!.headers['retry-after']).toBe('1');
    expect(emulator.state.stats.maxPendingSeen).toBe(2);
  });

  it('logs every POST rows attempt with its body hash and answer', async () => {
    const emulator = await start({ postsPerMinute: 1 });
    const c = await caller(emulator);
    const id = await createSales(c);
    await post(c, id);
    await post(c, id);
    const log = (await send(`${emulator.authorityUrl}/__emulator/post-rows`, 'GET', {})).json;
    expect(log.map((r: { status: number }) => r.status)).toEqual([200, 429]);
    expect(log[0].bodySha256).toBe(log[1].bodySha256);
    expect(log[1]).toMatchObject({ reason: 'posts-per-minute', retryAfterSeconds: 60, rows: 1 });
  });
});

describe('describeSwitches', () => {
  it('describes every switch with a kebab-case flag and a default', () => {
    const switches = describeSwitches();
    expect(switches.map((s) => s.flag)).toContain('time-scale');
    for (const s of switches) {
      expect(s.flag).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
      expect(s.default).not.toBe('');
      if (s.kind === 'choice') expect(s.choices).toContain(s.default);
    }
  });

  it('refuses options the emulator cannot honour', async () => {
    await expect(startPowerBiEmulator({ timeScale: 0 })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
