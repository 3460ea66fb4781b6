import { Agent, request } from 'undici';
import { startMstrEmulator } from '../../src/emulator/mstr/server.js';
import type { DatasetInspection, MstrEmulator, MstrEmulatorOptions } from '../../src/emulator/mstr/server.js';

const PROJECT = 'B7CA92F04B9FAE8D941C3E9B7E0CD754';
const agent = new Agent({ keepAliveTimeout: 50, keepAliveMaxTimeout: 50 });
const running: MstrEmulator[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

afterAll(async () => {
  await agent.close();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
  ms: number;
}

async function send(url: string, method: string, headers: Record<string, string>, body?: string, giveUpMs?: number): Promise<Reply> {
  const started = Date.now();
  const signal = giveUpMs === undefined ? {} : { signal: AbortSignal.timeout(giveUpMs) };
  const response = await request(url, { dispatcher: agent, method: method as 'GET', headers, ...signal, ...(body === undefined ? {} : { body }) });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, json: text === '' ? undefined : JSON.parse(text), ms: Date.now() - started };
}

/** The error a request ends with when the emulator drops the connection. */
async function socketError(reply: Promise<Reply>): Promise<unknown> {
  const error = await reply.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeDefined();
  expect((error as { code?: string }).code).toMatch(/^(UND_ERR_SOCKET|ECONNRESET|EPIPE)$/);
  return error;
}

/** A logged-in client that replays the token and cookies, with one method per Push Data call. */
class Client {
  token = '';
  cookie = '';

  constructor(readonly emulator: MstrEmulator) {}

  async login(password = 'etl-secret'): Promise<Reply> {
    const reply = await send(`${this.emulator.url}/auth/login`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ username: 'etl', password, loginMode: 1 }));
    if (reply.status === 204) {
      this.token = String(reply.headers['x-mstr-authtoken']);
      const cookies = reply.headers['set-cookie'];
      this.cookie = (Array.isArray(cookies) ? cookies : [String(cookies)]).map((c) => c.split(';')[0]).join('; ');
    }
    return reply;
  }

  call(method: string, path: string, body?: unknown, giveUpMs?: number): Promise<Reply> {
    const headers = { 'x-mstr-authtoken': this.token, cookie: this.cookie, 'x-mstr-projectid': PROJECT, 'content-type': 'application/json' };
    return send(`${this.emulator.url}${path}`, method, headers, body === undefined ? undefined : JSON.stringify(body), giveUpMs);
  }

  createModel(name = 'Items'): Promise<Reply> {
    return this.call('POST', '/datasets/models', itemsModel(name));
  }

  openSession(datasetId: string): Promise<Reply> {
    return this.call('POST', `/datasets/${datasetId}/uploadSessions`, { tables: [{ name: 'items', updatePolicy: 'add' }] });
  }

  putChunk(datasetId: string, sessionId: string, index: number, rows: unknown[][], giveUpMs?: number): Promise<Reply> {
    const data = Buffer.from(JSON.stringify(rows)).toString('base64');
    return this.call('PUT', `/datasets/${datasetId}/uploadSessions/${sessionId}`, { tableName: 'items', index, data }, giveUpMs);
  }

  publish(datasetId: string, sessionId: string): Promise<Reply> {
    return this.call('POST', `/datasets/${datasetId}/uploadSessions/${sessionId}/publish`);
  }

  status(datasetId: string, sessionId: string): Promise<Reply> {
    return this.call('GET', `/datasets/${datasetId}/uploadSessions/${sessionId}/publishStatus`);
  }

  cancel(datasetId: string, sessionId: string): Promise<Reply> {
    return this.call('DELETE', `/datasets/${datasetId}/uploadSessions/${sessionId}`);
  }

  myReports(): Promise<Reply> {
    return this.call('GET', '/folders/preDefined/20');
  }
}

/** items(Key | Qty) */
function itemsModel(name: string) {
  return {
    name,
    tables: [{ name: 'items', columnHeaders: [{ name: 'Key', dataType: 'INTEGER' }, { name: 'Qty', dataType: 'INTEGER' }] }],
    attributes: [{ name: 'Key', attributeForms: [{ category: 'ID', expressions: [{ tableName: 'items', columnName: 'Key' }] }] }],
    metrics: [{ name: 'Qty', expressions: [{ tableName: 'items', columnName: 'Qty' }] }],
  };
}

async function loggedIn(faults: string[], options: MstrEmulatorOptions = {}): Promise<Client> {
  const emulator = await startMstrEmulator({ publishPolls: 0, ...options, faults });
  running.push(emulator);
  const client = new Client(emulator);
  expect((await client.login()).status).toBe(204);
  return client;
}

/** A dataset "Items" with an open add session, created without faults being counted against chunk. */
async function withSession(client: Client): Promise<{ datasetId: string; sessionId: string }> {
  const model = await client.createModel();
  expect(model.status).toBe(200);
  const datasetId = model.json.id as string;
  const session = await client.openSession(datasetId);
  expect(session.status).toBe(200);
  return { datasetId, sessionId: session.json.uploadSessionId as string };
}

async function inspect(client: Client, datasetId: string): Promise<DatasetInspection> {
  const base = client.emulator.url.replace('/MicroStrategyLibrary/api', '');
  const reply = await send(`${base}/__emulator/datasets/${datasetId}`, 'GET', {});
  expect(reply.status).toBe(200);
  return reply.json as DatasetInspection;
}

async function chunksOf(client: Client, datasetId: string): Promise<number[] | undefined> {
  return (await inspect(client, datasetId)).uploadSessions[0]?.chunks['items'];
}

function expectFault(reply: Reply, status: number, code: string, rule: string): void {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  expect(reply.json).toEqual({ code, message: expect.stringContaining(`(emulator fault ${rule})`), ticketId: expect.stringMatching(/^[0-9a-f]{32}$/) });
}

describe('MicroStrategy emulator faults: injected statuses', () => {
  it('answers a chunk with 503 ERR016 without storing it, then takes the retry', async () => {
    const client = await loggedIn(['chunk=503']);
    const { datasetId, sessionId } = await withSession(client);
    const failed = await client.putChunk(datasetId, sessionId, 1, [[1, 10]]);
    expectFault(failed, 503, 'ERR016', 'chunk=503');
    expect(failed.json.message).toBe('Service not available (emulator fault chunk=503)');
    expect(await chunksOf(client, datasetId)).toEqual([]);
    expect((await client.putChunk(datasetId, sessionId, 1, [[1, 10]])).status).toBe(200);
    expect(await chunksOf(client, datasetId)).toEqual([1]);
    expect(client.emulator.state.faultLog).toEqual([{ operation: 'chunk', nth: 1, action: '503', rule: 'chunk=503' }]);
  });

  it('answers 429 with Retry-After on creating the model and creates nothing', async () => {
    const client = await loggedIn(['model=429:3']);
    const reply = await client.createModel();
    expectFault(reply, 429, 'ERR016', 'model=429:3');
    expect(reply.headers['retry-after']).toBe('3');
    expect((await client.myReports()).json).toEqual([]);
    const retried = await client.createModel();
    expect(retried.status).toBe(200);
    expect(retried.headers['retry-after']).toBeUndefined();
  });

  it('answers 429 with Retry-After on a chunk and stores nothing', async () => {
    const client = await loggedIn(['chunk#2=429:1']);
    const { datasetId, sessionId } = await withSession(client);
    expect((await client.putChunk(datasetId, sessionId, 1, [[1, 10]])).status).toBe(200);
    const reply = await client.putChunk(datasetId, sessionId, 2, [[2, 20]]);
    expectFault(reply, 429, 'ERR016', 'chunk#2=429:1');
    expect(reply.headers['retry-after']).toBe('1');
    expect(await chunksOf(client, datasetId)).toEqual([1]);
  });

  it('fails publish with 500 ERR001 and leaves the session open for another try', async () => {
    const client = await loggedIn(['publish=500']);
    const { datasetId, sessionId } = await withSession(client);
    expect((await client.putChunk(datasetId, sessionId, 1, [[1, 10]])).status).toBe(200);
    expectFault(await client.publish(datasetId, sessionId), 500, 'ERR001', 'publish=500');
    expect((await inspect(client, datasetId)).uploadSessions[0]?.state).toBe('open');
    expect((await client.publish(datasetId, sessionId)).status).toBe(200);
    expect((await client.status(datasetId, sessionId)).json.status).toBe(1);
    expect((await inspect(client, datasetId)).tables[0]?.rows).toEqual([['1', '10']]);
  });

  it('does not advance publishStatus when a poll is answered by a fault', async () => {
    const client = await loggedIn(['status*2=503'], { publishPolls: 1 });
    const { datasetId, sessionId } = await withSession(client);
    expect((await client.publish(datasetId, sessionId)).status).toBe(200);
    expect((await client.status(datasetId, sessionId)).status).toBe(503);
    expect((await client.status(datasetId, sessionId)).status).toBe(503);
    expect((await client.status(datasetId, sessionId)).json.status).toBe(6);
    expect((await client.status(datasetId, sessionId)).json.status).toBe(1);
  });

  it('keeps the session open when cancelling it is answered by a fault', async () => {
    const client = await loggedIn(['cancel=503']);
    const { datasetId, sessionId } = await withSession(client);
    expect((await client.cancel(datasetId, sessionId)).status).toBe(503);
    expect((await inspect(client, datasetId)).uploadSessions[0]).toMatchObject({ state: 'open', deleted: false });
    expect((await client.cancel(datasetId, sessionId)).status).toBe(200);
    expect((await inspect(client, datasetId)).uploadSessions[0]).toMatchObject({ state: 'cancelled', deleted: true });
  });

  it('does not open an upload session when opening it is answered by a fault', async () => {
    const client = await loggedIn(['session=503']);
    const datasetId = (await client.createModel()).json.id as string;
    expect((await client.openSession(datasetId)).status).toBe(503);
    expect((await inspect(client, datasetId)).uploadSessions).toEqual([]);
    expect((await client.openSession(datasetId)).status).toBe(200);
  });

  it('answers a login with 401 ERR003 and issues no token, then logs in on the next try', async () => {
    const client = await loggedIn(['login#2=401']);
    const reply = await client.login();
    expectFault(reply, 401, 'ERR003', 'login#2=401');
    expect(reply.headers['x-mstr-authtoken']).toBeUndefined();
    expect((await client.login()).status).toBe(204);
  });

  it('keeps the login alive when logout is answered by a fault', async () => {
    const client = await loggedIn(['logout=503']);
    expect((await client.call('POST', '/auth/logout')).status).toBe(503);
    expect((await client.call('GET', '/projects')).status).toBe(200);
  });

  it.each([
    ['projects', (c: Client) => c.call('GET', '/projects')],
    ['sessions', (c: Client) => c.call('GET', '/sessions')],
    ['folder', (c: Client) => c.myReports()],
    ['dataset', (c: Client) => c.call('GET', '/datasets/0123456789ABCDEF0123456789ABCDEF')],
  ])('answers %s with the injected status', async (operation, call) => {
    const client = await loggedIn([`${operation}=502`]);
    expectFault(await call(client), 502, 'ERR013', `${operation}=502`);
    expect((await call(client)).status).not.toBe(502);
  });
});

describe('MicroStrategy emulator faults: dropped connections', () => {
  it('drops a chunk before reading it: the client sees a socket error and nothing is stored', async () => {
    const client = await loggedIn(['chunk=reset-before']);
    const { datasetId, sessionId } = await withSession(client);
    await socketError(client.putChunk(datasetId, sessionId, 1, [[1, 10]]));
    expect(await chunksOf(client, datasetId)).toEqual([]);
    expect((await client.putChunk(datasetId, sessionId, 1, [[1, 10]])).status).toBe(200);
    expect(client.emulator.state.faults.count('chunk')).toBe(2);
  });

  it('drops an idempotent GET without the client resending it', async () => {
    const client = await loggedIn(['projects=reset-before']);
    await socketError(client.call('GET', '/projects'));
    expect(client.emulator.state.faults.count('projects')).toBe(1);
    expect((await client.call('GET', '/projects')).status).toBe(200);
  });

  it('stores a chunk before dropping the connection with reset-after', async () => {
    const client = await loggedIn(['chunk#2=reset-after']);
    const { datasetId, sessionId } = await withSession(client);
    expect((await client.putChunk(datasetId, sessionId, 1, [[1, 10]])).status).toBe(200);
    await socketError(client.putChunk(datasetId, sessionId, 2, [[2, 20]]));
    expect(await chunksOf(client, datasetId)).toEqual([1, 2]);
    // Resending the same index overwrites, so a retry after the reset doubles nothing.
    expect((await client.putChunk(datasetId, sessionId, 2, [[2, 20]])).status).toBe(200);
    expect((await client.publish(datasetId, sessionId)).status).toBe(200);
    expect((await client.status(datasetId, sessionId)).json.status).toBe(1);
    expect((await inspect(client, datasetId)).tables[0]?.rows).toEqual([
      ['1', '10'],
      ['2', '20'],
    ]);
  });

  it('creates the model before dropping the connection, and the folder listing shows it', async () => {
    const client = await loggedIn(['model=reset-after']);
    await socketError(client.createModel('Nightly Sales'));
    const listing = await client.myReports();
    expect(listing.json).toEqual([expect.objectContaining({ name: 'Nightly Sales', type: 3, subtype: 776 })]);
    const datasetId = listing.json[0].id as string;
    expect((await inspect(client, datasetId)).name).toBe('Nightly Sales');
  });

  it('creates nothing when the model request is dropped before reading', async () => {
    const client = await loggedIn(['model=reset-before']);
    await socketError(client.createModel());
    expect((await client.myReports()).json).toEqual([]);
    expect(client.emulator.state.listDatasets()).toEqual([]);
  });

  it('publishes before dropping the connection with reset-after', async () => {
    const client = await loggedIn(['publish=reset-after']);
    const { datasetId, sessionId } = await withSession(client);
    expect((await client.putChunk(datasetId, sessionId, 1, [[1, 10]])).status).toBe(200);
    await socketError(client.publish(datasetId, sessionId));
    expect((await inspect(client, datasetId)).uploadSessions[0]?.state).toBe('published');
    expect((await client.status(datasetId, sessionId)).json.status).toBe(1);
  });

  it('opens the upload session before dropping the connection with reset-after', async () => {
    const client = await loggedIn(['session=reset-after']);
    const datasetId = (await client.createModel()).json.id as string;
    await socketError(client.openSession(datasetId));
    expect((await inspect(client, datasetId)).uploadSessions).toEqual([expect.objectContaining({ state: 'open' })]);
    // The open session now blocks a second one, as on a real server.
    expect((await client.openSession(datasetId)).json).toMatchObject({ code: 'ERR006', message: expect.stringMatching(/already has an open upload session/) });
  });
});

describe('MicroStrategy emulator faults: delays', () => {
  it('applies and answers a delayed chunk after the delay', async () => {
    const client = await loggedIn(['chunk=delay:300']);
    const { datasetId, sessionId } = await withSession(client);
    const reply = await client.putChunk(datasetId, sessionId, 1, [[1, 10]]);
    expect(reply.status).toBe(200);
    expect(reply.ms).toBeGreaterThanOrEqual(280);
    expect(await chunksOf(client, datasetId)).toEqual([1]);
  });

  it('still stores a delayed chunk when the client gave up waiting', async () => {
    const client = await loggedIn(['chunk=delay:400']);
    const { datasetId, sessionId } = await withSession(client);
    const error = await client.putChunk(datasetId, sessionId, 1, [[1, 10]], 100).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(await chunksOf(client, datasetId)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await chunksOf(client, datasetId)).toEqual([1]);
  });

  it('runs a delay and then a status in the order given', async () => {
    const client = await loggedIn(['chunk=delay:200', 'chunk=503']);
    const { datasetId, sessionId } = await withSession(client);
    const reply = await client.putChunk(datasetId, sessionId, 1, [[1, 10]]);
    expect(reply.status).toBe(503);
    expect(reply.ms).toBeGreaterThanOrEqual(180);
    expect(await chunksOf(client, datasetId)).toEqual([]);
    expect(client.emulator.state.faultLog.map((f) => f.action)).toEqual(['delay:200', '503']);
  });

  it('closes promptly while a request is being delayed', async () => {
    const client = await loggedIn(['projects=delay:60000']);
    const pending = client.call('GET', '/projects').catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await client.emulator.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await pending).toMatchObject({ code: expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET)$/) });
  });
});

describe('MicroStrategy emulator faults: expired logins', () => {
  it('expires the login mid-upload with 401 ERR009, and a new login continues the same upload session', async () => {
    const client = await loggedIn(['chunk#2=expire-login']);
    const { datasetId, sessionId } = await withSession(client);
    expect((await client.putChunk(datasetId, sessionId, 1, [[1, 10]])).status).toBe(200);
    const expired = await client.putChunk(datasetId, sessionId, 2, [[2, 20]]);
    expect(expired.status).toBe(401);
    expect(expired.json).toMatchObject({ code: 'ERR009', message: "The user's session has expired, please reauthenticate" });
    expect((await client.call('GET', '/projects')).status).toBe(401);
    const oldToken = client.token;
    expect((await client.login()).status).toBe(204);
    expect(client.token).not.toBe(oldToken);
    expect((await client.putChunk(datasetId, sessionId, 2, [[2, 20]])).status).toBe(200);
    expect((await client.publish(datasetId, sessionId)).status).toBe(200);
    expect((await client.status(datasetId, sessionId)).json.status).toBe(1);
    expect((await inspect(client, datasetId)).tables[0]?.rows).toEqual([
      ['1', '10'],
      ['2', '20'],
    ]);
  });

  it('cancels the upload session with the login when uploadSessionSurvivesRelogin is off', async () => {
    const client = await loggedIn(['chunk#2=expire-login'], { uploadSessionSurvivesRelogin: false });
    const { datasetId, sessionId } = await withSession(client);
    expect((await client.putChunk(datasetId, sessionId, 1, [[1, 10]])).status).toBe(200);
    expect((await client.putChunk(datasetId, sessionId, 2, [[2, 20]])).status).toBe(401);
    expect((await client.login()).status).toBe(204);
    expect((await client.putChunk(datasetId, sessionId, 2, [[2, 20]])).status).toBe(404);
    expect((await inspect(client, datasetId)).uploadSessions[0]?.state).toBe('cancelled');
  });
});

describe('MicroStrategy emulator faults: counting', () => {
  it('hits the nth to nth+times-1 requests of an operation, failed requests included', async () => {
    const client = await loggedIn(['chunk#2*2=503']);
    const { datasetId, sessionId } = await withSession(client);
    const statuses: number[] = [];
    for (let index = 1; index <= 4; index++) statuses.push((await client.putChunk(datasetId, sessionId, index, [[index, 1]])).status);
    expect(statuses).toEqual([200, 503, 503, 200]);
    expect(await chunksOf(client, datasetId)).toEqual([1, 4]);
    expect(client.emulator.state.faultLog.map((f) => f.nth)).toEqual([2, 3]);
  });

  it('counts each operation separately, and rejected requests count too', async () => {
    const client = await loggedIn(['chunk#3=503', 'session#2=503']);
    const { datasetId, sessionId } = await withSession(client);
    // An unauthenticated chunk is still a chunk request: it is number 1.
    const stranger = new Client(client.emulator);
    expect((await stranger.putChunk(datasetId, sessionId, 1, [[1, 1]])).status).toBe(401);
    expect((await client.putChunk(datasetId, sessionId, 1, [[1, 1]])).status).toBe(200);
    expect((await client.putChunk(datasetId, sessionId, 2, [[2, 2]])).status).toBe(503);
    expect(client.emulator.state.faults.count('chunk')).toBe(3);
    expect(client.emulator.state.faults.count('session')).toBe(1);
  });

  it('hits every request from the nth on with *inf', async () => {
    const client = await loggedIn(['projects#2*inf=503']);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await client.call('GET', '/projects')).status);
    expect(statuses).toEqual([200, 503, 503, 503, 503]);
  });

  it('does not count inspection requests or refused methods', async () => {
    const client = await loggedIn(['chunk=503']);
    const { datasetId, sessionId } = await withSession(client);
    await inspect(client, datasetId);
    expect((await client.call('POST', `/datasets/${datasetId}/uploadSessions/${sessionId}`)).status).toBe(405);
    expect(client.emulator.state.faults.count('chunk')).toBe(0);
    expect((await client.putChunk(datasetId, sessionId, 1, [[1, 1]])).status).toBe(503);
  });

  it('notes each fault in the request log', async () => {
    const lines: string[] = [];
    const client = await loggedIn(['chunk=503', 'chunk#2=reset-after'], { log: (line) => lines.push(line) });
    const { datasetId, sessionId } = await withSession(client);
    await client.putChunk(datasetId, sessionId, 1, [[1, 1]]);
    await client.putChunk(datasetId, sessionId, 1, [[1, 1]]).catch(() => undefined);
    const path = `/MicroStrategyLibrary/api/datasets/${datasetId}/uploadSessions/${sessionId}`;
    expect(lines.slice(-2)).toEqual([
      `PUT ${path} 503 ERR016 Service not available (emulator fault chunk=503) [fault chunk=503]`,
      `PUT ${path} reset after applying (would have answered 200) [fault chunk#2=reset-after]`,
    ]);
  });

  it('refuses to start with an invalid rule', async () => {
    await expect(startMstrEmulator({ faults: ['chunk#0=503'] })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('chunk#0=503') });
  });
});
