import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { canonicalRowJson, describeSwitches, startMstrEmulator } from '../../src/emulator/mstr/server.js';
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

async function start(options: MstrEmulatorOptions = {}): Promise<MstrEmulator> {
  const emulator = await startMstrEmulator(options);
  running.push(emulator);
  return emulator;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

type Body = string | Buffer | Readable;

async function send(url: string, method: string, headers: Record<string, string>, body?: Body): Promise<Reply> {
  const response = body === undefined
    ? await request(url, { dispatcher: agent, method: method as 'GET', headers })
    : await request(url, { dispatcher: agent, method: method as 'GET', headers, body });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

function b64(jsonText: string): string {
  return Buffer.from(jsonText, 'utf8').toString('base64');
}

/** A logged-in client that replays the token and the JSESSIONID cookie. */
class Client {
  token = '';
  cookie = '';
  project: string | undefined = PROJECT;

  constructor(readonly emulator: MstrEmulator) {}

  async login(username = 'etl', password = 'etl-secret'): Promise<Reply> {
    const reply = await send(`${this.emulator.url}/auth/login`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ username, password, loginMode: 1 }));
    if (reply.status === 204) {
      this.token = String(reply.headers['x-mstr-authtoken']);
      const cookies = reply.headers['set-cookie'];
      this.cookie = (Array.isArray(cookies) ? cookies : [String(cookies)]).map((c) => c.split(';')[0]).join('; ');
    }
    return reply;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'x-mstr-authtoken': this.token,
      cookie: this.cookie,
      ...(this.project === undefined ? {} : { 'x-mstr-projectid': this.project }),
      'content-type': 'application/json',
      ...extra,
    };
  }

  call(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Reply> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return send(`${this.emulator.url}${path}`, method, this.headers(extra), payload);
  }

  async createModel(model: unknown = demoModel()): Promise<string> {
    const reply = await this.call('POST', '/datasets/models', model);
    expect(reply.status).toBe(200);
    return reply.json.id as string;
  }

  async openSession(datasetId: string, tables: unknown[]): Promise<string> {
    const reply = await this.call('POST', `/datasets/${datasetId}/uploadSessions`, { tables });
    expect(reply).toMatchObject({ status: 200 });
    return reply.json.uploadSessionId as string;
  }

  putChunk(datasetId: string, sessionId: string, tableName: string, index: number | string, jsonText: string): Promise<Reply> {
    return this.call('PUT', `/datasets/${datasetId}/uploadSessions/${sessionId}`, { tableName, index, data: b64(jsonText) });
  }

  publish(datasetId: string, sessionId: string): Promise<Reply> {
    return this.call('POST', `/datasets/${datasetId}/uploadSessions/${sessionId}/publish`);
  }

  status(datasetId: string, sessionId: string): Promise<Reply> {
    return this.call('GET', `/datasets/${datasetId}/uploadSessions/${sessionId}/publishStatus`);
  }

  async publishAndWait(datasetId: string, sessionId: string): Promise<void> {
    expect((await this.publish(datasetId, sessionId)).status).toBe(200);
    for (let i = 0; i < 20; i++) {
      const reply = await this.status(datasetId, sessionId);
      expect(reply.status).toBe(200);
      if (reply.json.status === 1) return;
    }
    throw new Error('publish never finished');
  }
}

async function inspect(emulator: MstrEmulator, datasetId: string): Promise<DatasetInspection> {
  const base = emulator.url.replace('/MicroStrategyLibrary/api', '');
  const reply = await send(`${base}/__emulator/datasets/${datasetId}`, 'GET', {});
  expect(reply.status).toBe(200);
  return reply.json as DatasetInspection;
}

function rowsOf(inspection: DatasetInspection, table: string): unknown[] | undefined {
  return inspection.tables.find((t) => t.name === table)?.rows;
}

/** orders(ID, Day, Category | Cost, Big) and shipments(ID, Stamp, At, Flag | Profit); ID links both. */
function demoModel(name = 'Sales') {
  return {
    name,
    description: 'demo',
    folderId: '',
    tables: [
      {
        name: 'orders',
        columnHeaders: [
          { name: 'ID', dataType: 'INTEGER' },
          { name: 'Day', dataType: 'date' },
          { name: 'Category', dataType: 'String' },
          { name: 'Cost', dataType: 'DOUBLE' },
          { name: 'Big', dataType: 'BIGINTEGER' },
        ],
      },
      {
        name: 'shipments',
        columnHeaders: [
          { name: 'ID', dataType: 'INTEGER' },
          { name: 'Stamp', dataType: 'DATETIME' },
          { name: 'At', dataType: 'TIME' },
          { name: 'Flag', dataType: 'BOOLEAN' },
          { name: 'Profit', dataType: 'BIGDECIMAL' },
        ],
      },
    ],
    attributes: [
      {
        name: 'ID',
        attributeForms: [
          { category: 'ID', expressions: [{ tableName: 'orders', columnName: 'ID' }, { formula: 'shipments.ID' }] },
        ],
      },
      { name: 'Day', attributeForms: [{ category: 'ID', expressions: [{ tableName: 'orders', columnName: 'Day' }] }] },
      { name: 'Category', attributeForms: [{ category: 'ID', expressions: [{ tableName: 'orders', columnName: 'Category' }] }] },
      { name: 'Stamp', attributeForms: [{ category: 'ID', expressions: [{ tableName: 'shipments', columnName: 'Stamp' }] }] },
      { name: 'At', attributeForms: [{ category: 'ID', expressions: [{ tableName: 'shipments', columnName: 'At' }] }] },
      { name: 'Flag', attributeForms: [{ category: 'ID', expressions: [{ tableName: 'shipments', columnName: 'Flag' }] }] },
    ],
    metrics: [
      { name: 'Cost', expressions: [{ tableName: 'orders', columnName: 'Cost' }] },
      { name: 'Big', expressions: [{ tableName: 'orders', columnName: 'Big' }] },
      { name: 'Profit', expressions: [{ tableName: 'shipments', columnName: 'Profit' }] },
    ],
  };
}

/** items(Key, Name | Qty): one key column, one description attribute, one metric. */
function itemsModel() {
  return {
    name: 'Items',
    tables: [
      {
        name: 'items',
        columnHeaders: [
          { name: 'Key', dataType: 'INTEGER' },
          { name: 'Label', dataType: 'STRING' },
          { name: 'Qty', dataType: 'INTEGER' },
        ],
      },
    ],
    attributes: [{ name: 'Key', attributeForms: [{ category: 'ID', expressions: [{ tableName: 'items', columnName: 'Key' }] }, { category: 'DESC', expressions: [{ tableName: 'items', columnName: 'Label' }] }] }],
    metrics: [{ name: 'Qty', expressions: [{ tableName: 'items', columnName: 'Qty' }] }],
  };
}

async function loggedIn(options: MstrEmulatorOptions = {}): Promise<Client> {
  const client = new Client(await start(options));
  expect((await client.login()).status).toBe(204);
  return client;
}

/** A dataset with an open ROW session on orders (all columns, policy add). */
async function ordersSession(client: Client): Promise<{ datasetId: string; sessionId: string }> {
  const datasetId = await client.createModel();
  const sessionId = await client.openSession(datasetId, [{ name: 'orders', updatePolicy: 'add' }]);
  return { datasetId, sessionId };
}

function expectError(reply: Reply, status: number, code: string, message?: RegExp): void {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  expect(reply.json).toMatchObject({ code });
  expect(reply.json.ticketId).toMatch(/^[0-9a-f]{32}$/);
  if (message !== undefined) expect(reply.json.message).toMatch(message);
}

describe('MicroStrategy emulator: happy path', () => {
  it('loads two tables from out-of-order chunks and shows the exact rows after publishing', async () => {
    const client = new Client(await start());
    expect((await client.login()).status).toBe(204);

    const projects = await client.call('GET', '/projects', undefined, { 'x-mstr-projectid': '' });
    expect(projects.json).toEqual([{ id: PROJECT, name: 'Demo', alias: '', description: '', status: 0 }]);

    const created = await client.call('POST', '/datasets/models', demoModel());
    expect(created.status).toBe(200);
    expect(created.json).toEqual({ id: expect.stringMatching(/^[0-9A-F]{32}$/), name: 'Sales' });
    const datasetId = created.json.id as string;

    const sessionId = await client.openSession(datasetId, [
      { name: 'orders', updatePolicy: 'ADD', orientation: 'row' },
      { name: 'shipments', updatePolicy: 'Replace', orientation: 'COLUMN', columnHeaders: ['Profit', 'ID', 'Stamp', 'At', 'Flag'] },
    ]);
    expect(sessionId).toMatch(/^[0-9A-F]{32}$/);

    // Index 2 before index 1, and the docs' string index; the server assembles by index.
    const second = await client.putChunk(datasetId, sessionId, 'orders', '2', '[[3, "2018-01-31", "Toys", 1e2, -9223372036854775808]]');
    expect(second).toMatchObject({ status: 200, text: '' });
    const first = await client.putChunk(
      datasetId,
      sessionId,
      'orders',
      1,
      '[\r\n\t[1, "2017-12-5", "Books", 200.50, 9223372036854775807],\n [2, null, "Caf\\u00e9", 0.1000000000000000055511, null]\n]',
    );
    expect(first.status).toBe(200);
    const columns = '[[12345678901234567890.123456789, -1], [1, 2], ["2020-01-02T03:04:05", "2020-01-02T03:04:05.123456789"], ["11:00:00", null], [true, false]]';
    expect((await client.putChunk(datasetId, sessionId, 'shipments', 1, columns)).status).toBe(200);

    expect((await client.publish(datasetId, sessionId)).status).toBe(200);
    const polls: unknown[] = [];
    for (;;) {
      const reply = await client.status(datasetId, sessionId);
      expect(reply.status).toBe(200);
      polls.push(reply.json);
      if (reply.json.status === 1) break;
    }
    expect(polls).toEqual([
      { uploadSessionId: sessionId, status: 6, message: 'sql execution' },
      { uploadSessionId: sessionId, status: 6, message: 'sql execution' },
      { uploadSessionId: sessionId, status: 1, message: 'result ready' },
    ]);

    const inspection = await inspect(client.emulator, datasetId);
    const orders = [
      ['1', '2017-12-05', 'Books', '200.50', '9223372036854775807'],
      ['2', null, 'Café', '0.1000000000000000055511', null],
      ['3', '2018-01-31', 'Toys', '1e2', '-9223372036854775808'],
    ];
    expect(rowsOf(inspection, 'orders')).toEqual(orders);
    expect(rowsOf(inspection, 'shipments')).toEqual([
      ['1', '2020-01-02T03:04:05', '11:00:00', true, '12345678901234567890.123456789'],
      ['2', '2020-01-02T03:04:05.123456789', null, false, '-1'],
    ]);
    const ordersTable = inspection.tables.find((t) => t.name === 'orders');
    expect(ordersTable?.columns.map((c) => `${c.name}:${c.dataType}:${c.role}`)).toEqual([
      'ID:INTEGER:attribute',
      'Day:DATE:attribute',
      'Category:STRING:attribute',
      'Cost:DOUBLE:metric',
      'Big:BIGINTEGER:metric',
    ]);
    const expectedChecksum = createHash('sha256')
      .update(orders.map((row) => `${canonicalRowJson(row as string[], ordersTable?.columns ?? [])}\n`).join(''))
      .digest('hex');
    expect(ordersTable?.checksum).toBe(expectedChecksum);
    expect(canonicalRowJson(orders[1] as (string | null)[], ordersTable?.columns ?? [])).toBe('[2,null,"Café",0.1000000000000000055511,null]');
    expect(inspection.publishes).toBe(1);
    expect(inspection.uploadSessions).toEqual([
      { id: sessionId, state: 'published', deleted: false, chunks: { orders: [1, 2], shipments: [1] }, publishStatus: 1 },
    ]);

    const base = client.emulator.url.replace('/MicroStrategyLibrary/api', '');
    const list = await send(`${base}/__emulator/datasets`, 'GET', {});
    expect(list.json).toEqual([{ id: datasetId, name: 'Sales', tables: [{ name: 'orders', rowCount: 3 }, { name: 'shipments', rowCount: 2 }] }]);

    expect((await client.call('POST', '/auth/logout')).status).toBe(204);
    expectError(await client.call('GET', '/projects'), 401, 'ERR009', /session has expired/);
    expectError(await client.call('POST', '/auth/logout'), 401, 'ERR009');
  });

  it('returns the definition with only the requested fields', async () => {
    const client = await loggedIn();
    const datasetId = await client.createModel();
    const byDefault = await client.call('GET', `/datasets/${datasetId}`);
    expect(Object.keys(byDefault.json.result.definition.availableObjects).sort()).toEqual(['attributes', 'metrics']);
    expect(byDefault.json.result.definition.availableObjects.attributes[0]).toEqual({
      id: expect.stringMatching(/^[0-9A-F]{32}$/),
      name: 'ID',
      forms: [{ category: 'ID', expressions: [{ tableName: 'orders', columnName: 'ID' }, { tableName: 'shipments', columnName: 'ID' }] }],
    });
    const reply = await client.call('GET', `/datasets/${datasetId}?fields=tables&fields=columns`);
    expect(reply.json.id).toBe(datasetId);
    const objects = reply.json.result.definition.availableObjects;
    expect(Object.keys(objects).sort()).toEqual(['columns', 'tables']);
    expect(objects.tables.map((t: { name: string }) => t.name)).toEqual(['orders', 'shipments']);
    expect(objects.columns[3]).toEqual({ tableName: 'orders', columnName: 'Cost', dataType: 'DOUBLE' });
    expect(objects.columns[8]).toEqual({ tableName: 'shipments', columnName: 'Flag', dataType: 'BOOL' });
    expectError(await client.call('GET', `/datasets/${datasetId}?fields=tables,columns`), 400, 'ERR006');
    expectError(await client.call('GET', '/datasets/0123456789ABCDEF0123456789ABCDEF'), 404, 'ERR004');
  });

  it('serves session info, renews sessions and lists its switches', async () => {
    const client = await loggedIn({ sessionIdleSeconds: 600 });
    const info = await client.call('GET', '/sessions');
    expect(info.json).toMatchObject({ timeout: 600, workingSet: 10, maxSearch: 3 });
    expect((await client.call('PUT', '/sessions')).status).toBe(204);
    const switches = describeSwitches();
    expect(switches.find((s) => s.name === 'duplicateChunkIndex')).toMatchObject({ flag: 'duplicate-chunk-index', default: 'overwrite', choices: ['overwrite', 'reject'] });
    expect(switches.map((s) => s.name)).toEqual(expect.arrayContaining(['requireCookie', 'invalidDate', 'publishOutcome', 'keepRows', 'maxBodyBytes']));
  });
});

describe('MicroStrategy emulator: login and session rules', () => {
  it('rejects bad credentials with 401 ERR003 "Login failed"', async () => {
    const client = new Client(await start());
    const reply = await client.login('etl', 'wrong');
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ code: 'ERR003', message: 'Login failed', ticketId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('issues a 26-character token and replayable JSESSIONID and iSession cookies', async () => {
    const client = new Client(await start());
    const reply = await client.login();
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect(client.token).toMatch(/^[0-9a-v]{26}$/);
    expect(reply.headers['set-cookie']).toEqual([
      expect.stringMatching(/^JSESSIONID=[0-9A-F]{32}; Path=\/MicroStrategyLibrary; HttpOnly$/),
      `iSession=${client.token}; Path=/MicroStrategyLibrary; HttpOnly`,
    ]);
  });

  it('accepts a form-encoded LDAP login and refuses API-token login mode 4096', async () => {
    const emulator = await start();
    const form = await send(`${emulator.url}/auth/login`, 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, 'username=etl&password=etl-secret&loginMode=16&applicationType=76');
    expect(form.status).toBe(204);
    const token = await send(`${emulator.url}/auth/login`, 'POST', { 'content-type': 'application/json' }, '{"username":"etl","password":"etl-secret","loginMode":4096}');
    expectError(token, 401, 'ERR003');
    const plain = await send(`${emulator.url}/auth/login`, 'POST', { 'content-type': 'text/plain' }, 'username=etl');
    expectError(plain, 415, 'ERR006');
  });

  it('rejects a token sent without its cookie unless requireCookie is off', async () => {
    const strict = await loggedIn();
    const noCookie = await send(`${strict.emulator.url}/projects`, 'GET', { 'x-mstr-authtoken': strict.token });
    expectError(noCookie, 401, 'ERR009', /^The user's session has expired, please reauthenticate$/);
    const wrongCookie = await send(`${strict.emulator.url}/projects`, 'GET', { 'x-mstr-authtoken': strict.token, cookie: 'JSESSIONID=0123456789ABCDEF0123456789ABCDEF' });
    expectError(wrongCookie, 401, 'ERR009');

    const lenient = await loggedIn({ requireCookie: false });
    const tokenOnly = await send(`${lenient.emulator.url}/projects`, 'GET', { 'x-mstr-authtoken': lenient.token });
    expect(tokenOnly.status).toBe(200);
  });

  it('expires idle logins and lets a new login continue the same upload session', async () => {
    const client = await loggedIn({ sessionIdleSeconds: 0.3 });
    const { datasetId, sessionId } = await ordersSession(client);
    expect((await client.putChunk(datasetId, sessionId, 'orders', 1, '[[1,"2020-01-01","a",1,1]]')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expectError(await client.putChunk(datasetId, sessionId, 'orders', 2, '[[2,"2020-01-01","b",2,2]]'), 401, 'ERR009');
    expect((await client.login()).status).toBe(204);
    expect((await client.putChunk(datasetId, sessionId, 'orders', 2, '[[2,"2020-01-01","b",2,2]]')).status).toBe(200);
    await client.publishAndWait(datasetId, sessionId);
    expect(rowsOf(await inspect(client.emulator, datasetId), 'orders')).toHaveLength(2);
  });

  it('keeps idle logins alive while they are used', async () => {
    const client = await loggedIn({ sessionIdleSeconds: 0.4 });
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await client.call('PUT', '/sessions')).status).toBe(204);
    }
  });

  it('binds upload sessions to their login when uploadSessionSurvivesRelogin is off', async () => {
    const client = await loggedIn({ uploadSessionSurvivesRelogin: false });
    const { datasetId, sessionId } = await ordersSession(client);
    expect((await client.call('POST', '/auth/logout')).status).toBe(204);
    expect((await client.login()).status).toBe(204);
    expectError(await client.putChunk(datasetId, sessionId, 'orders', 1, '[]'), 404, 'ERR004');
    // The old login's session was cancelled, so the dataset is free again.
    expect(await client.openSession(datasetId, [{ name: 'orders', updatePolicy: 'add' }])).toMatch(/^[0-9A-F]{32}$/);
    const states = (await inspect(client.emulator, datasetId)).uploadSessions.map((s) => s.state);
    expect(states).toEqual(['cancelled', 'open']);
  });

  it('requires a known X-MSTR-ProjectID on dataset calls', async () => {
    const client = await loggedIn();
    client.project = undefined;
    expectError(await client.call('POST', '/datasets/models', demoModel()), 400, 'ERR005', /X-MSTR-ProjectID/);
    client.project = '0123456789ABCDEF0123456789ABCDEF';
    expectError(await client.call('POST', '/datasets/models', demoModel()), 400, 'ERR006', /Project/);
    client.project = PROJECT.toLowerCase();
    expectError(await client.call('POST', '/datasets/models', demoModel()), 400, 'ERR006');
  });

  it('does not show a dataset through another project', async () => {
    const client = await loggedIn({ projects: [{ id: PROJECT, name: 'Demo' }, { id: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', name: 'Other' }] });
    const datasetId = await client.createModel();
    client.project = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expectError(await client.call('GET', `/datasets/${datasetId}`), 404, 'ERR004');
  });

  it('answers unknown paths with 404 ERR004 and wrong methods with 405 ERR001', async () => {
    const client = await loggedIn();
    expectError(await client.call('GET', '/nothing/here'), 404, 'ERR004');
    expectError(await send(`${client.emulator.url.replace('/api', '')}/other`, 'GET', {}), 404, 'ERR004');
    const wrong = await client.call('GET', '/auth/login');
    expectError(wrong, 405, 'ERR001', /405/);
    expect(wrong.headers['allow']).toBe('POST');
    expectError(await client.call('DELETE', '/datasets/models'), 405, 'ERR001');
  });

  it('refuses JSON bodies without an application/json Content-Type', async () => {
    const client = await loggedIn();
    expectError(await client.call('POST', '/datasets/models', demoModel(), { 'content-type': 'text/plain' }), 415, 'ERR006', /application\/json/);
    expectError(await client.call('POST', '/datasets/models', demoModel(), { 'content-type': 'application/json; charset=latin1' }), 415, 'ERR006');
    expect((await client.call('POST', '/datasets/models', demoModel(), { 'content-type': 'application/json; charset=UTF-8' })).status).toBe(200);
  });
});

describe('MicroStrategy emulator: model validation', () => {
  function withColumns(model: ReturnType<typeof demoModel>, table: number, columns: Array<{ name: string; dataType: string }>) {
    const copy = structuredClone(model);
    const target = copy.tables[table];
    if (target !== undefined) target.columnHeaders = columns;
    return copy;
  }

  it.each([
    ['an unknown data type', () => withColumns(demoModel(), 0, [...demoModel().tables[0]!.columnHeaders.slice(0, 4), { name: 'Big', dataType: 'DECIMAL' }]), /not a supported data type/],
    ['a duplicate column differing only in case', () => withColumns(demoModel(), 0, [...demoModel().tables[0]!.columnHeaders, { name: 'cost', dataType: 'DOUBLE' }]), /duplicate column/],
    [
      'an expression to a missing column',
      () => ({ ...demoModel(), metrics: [...demoModel().metrics, { name: 'Tax', expressions: [{ tableName: 'orders', columnName: 'Tax' }] }] }),
      /unknown column "Tax"/,
    ],
    ['a formula to a missing table', () => ({ ...demoModel(), metrics: [{ name: 'Cost', expressions: [{ formula: 'nope.Cost' }] }] }), /does not name an existing/],
    [
      'a column used as attribute and metric',
      () => ({ ...demoModel(), metrics: [...demoModel().metrics, { name: 'IdCount', expressions: [{ tableName: 'orders', columnName: 'ID' }] }] }),
      /already used by attribute "ID"/,
    ],
    ['a column no attribute or metric uses', () => ({ ...demoModel(), metrics: demoModel().metrics.slice(1) }), /orders\.Cost is not used/],
    ['a name with a bracket', () => ({ ...demoModel(), name: 'Sales [2024]' }), /contains one of/],
    ['an empty name', () => ({ ...demoModel(), name: '  ' }), /must not be empty/],
    ['a name over 250 characters', () => ({ ...demoModel(), name: 'x'.repeat(251) }), /longer than 250/],
    ['no tables', () => ({ ...demoModel(), tables: [] }), /at least 1/],
    ['an unknown field', () => ({ ...demoModel(), colour: 'red' }), /unknown field "colour"/],
    ['a bad folderId', () => ({ ...demoModel(), folderId: 'My Reports' }), /folderId/],
    ['a lower-case form category', () => ({ ...demoModel(), attributes: [{ name: 'ID', attributeForms: [{ category: 'id', expressions: [{ tableName: 'orders', columnName: 'ID' }] }] }] }), /must be ID or DESC/],
    ['duplicate metric names', () => ({ ...demoModel(), metrics: demoModel().metrics.map((m) => ({ ...m, name: 'Value' })) }), /duplicate attribute\/metric name "Value"/],
  ])('rejects a model with %s', async (_name, model, message) => {
    const client = await loggedIn();
    expectError(await client.call('POST', '/datasets/models', model()), 400, 'ERR006', message);
  });

  it('rejects invalid JSON in the request body', async () => {
    const client = await loggedIn();
    expectError(await client.call('POST', '/datasets/models', '{"name": "x",}'), 400, 'ERR006', /^Invalid JSON/);
  });

  it('accepts duplicate attribute/metric names when allowDuplicateModelNames is on', async () => {
    const client = await loggedIn({ allowDuplicateModelNames: true });
    const model = { ...demoModel(), metrics: demoModel().metrics.map((m) => ({ ...m, name: 'Value' })) };
    expect((await client.call('POST', '/datasets/models', model)).status).toBe(200);
  });

  it('overwrites a same-named dataset in place, keeping its id and dropping its rows', async () => {
    const client = await loggedIn();
    const { datasetId, sessionId } = await ordersSession(client);
    expect((await client.putChunk(datasetId, sessionId, 'orders', 1, '[[1,"2020-01-01","a",1,1]]')).status).toBe(200);
    await client.publishAndWait(datasetId, sessionId);
    expect(await client.createModel()).toBe(datasetId);
    expect(rowsOf(await inspect(client.emulator, datasetId), 'orders')).toEqual([]);
    expect(await client.createModel(demoModel('Other'))).not.toBe(datasetId);
  });

  it('rejects a same-named dataset with 409 ERR015 when sameNameDataset is reject', async () => {
    const client = await loggedIn({ sameNameDataset: 'reject' });
    await client.createModel();
    expectError(await client.call('POST', '/datasets/models', demoModel()), 409, 'ERR015');
  });
});

describe('MicroStrategy emulator: upload sessions and chunks', () => {
  it('allows only one open upload session per dataset', async () => {
    const client = await loggedIn();
    const { datasetId, sessionId } = await ordersSession(client);
    expectError(await client.call('POST', `/datasets/${datasetId}/uploadSessions`, { tables: [{ name: 'orders', updatePolicy: 'add' }] }), 400, 'ERR006', /open upload session/);
    expect((await client.call('DELETE', `/datasets/${datasetId}/uploadSessions/${sessionId}`)).status).toBe(200);
    expectError(await client.putChunk(datasetId, sessionId, 'orders', 1, '[]'), 404, 'ERR004');
    expect(await client.openSession(datasetId, [{ name: 'orders', updatePolicy: 'add' }])).toMatch(/^[0-9A-F]{32}$/);
  });

  it.each([
    ['an unknown table', [{ name: 'nope', updatePolicy: 'add' }], 404, 'ERR004'],
    ['an unknown policy', [{ name: 'orders', updatePolicy: 'merge' }], 400, 'ERR006'],
    ['an unknown orientation', [{ name: 'orders', updatePolicy: 'add', orientation: 'DIAGONAL' }], 400, 'ERR006'],
    ['an unknown column header', [{ name: 'orders', updatePolicy: 'add', columnHeaders: ['ID', 'Nope'] }], 400, 'ERR006'],
    ['a repeated column header', [{ name: 'orders', updatePolicy: 'add', columnHeaders: ['ID', 'ID'] }], 400, 'ERR006'],
    ['an update without the key columns', [{ name: 'orders', updatePolicy: 'update', columnHeaders: ['ID', 'Cost'] }], 400, 'ERR006'],
    ['the same table twice', [{ name: 'orders', updatePolicy: 'add' }, { name: 'orders', updatePolicy: 'add' }], 400, 'ERR006'],
  ])('refuses an upload session with %s', async (_name, tables, status, code) => {
    const client = await loggedIn();
    const datasetId = await client.createModel();
    expectError(await client.call('POST', `/datasets/${datasetId}/uploadSessions`, { tables }), status, code);
  });

  it.each([
    ['unpadded base64', () => b64('[[1]]').replace(/=+$/, ''), /not valid base64/],
    ['base64 with a line break', () => `${b64('[[1,"2020-01-01","a",1,1]]').slice(0, 8)}\n${b64('[[1,"2020-01-01","a",1,1]]').slice(8)}`, /not valid base64/],
    ['URL-safe base64', () => Buffer.from('[["??>"]]').toString('base64url'), /not valid base64/],
    ['non-canonical trailing bits', () => 'W11=' /* "[]" with non-zero padding bits */, /not valid base64/],
    ['bytes that are not UTF-8', () => Buffer.from([0x5b, 0x5b, 0x22, 0xff, 0x22, 0x5d, 0x5d]).toString('base64'), /not valid UTF-8/],
    ['invalid JSON', () => b64('[[1,"2020-01-01","a",1,1],]'), /not valid JSON.*line 1/],
  ])('rejects a chunk with %s and keeps the session open', async (_name, data, message) => {
    const client = await loggedIn();
    const { datasetId, sessionId } = await ordersSession(client);
    const reply = await client.call('PUT', `/datasets/${datasetId}/uploadSessions/${sessionId}`, { tableName: 'orders', index: 1, data: data() });
    expectError(reply, 400, 'ERR006', message);
    expect(reply.json.message).toMatch(/table "orders", index 1/);
    expect((await client.putChunk(datasetId, sessionId, 'orders', 1, '[[1,"2020-01-01","a",1,1]]')).status).toBe(200);
    await client.publishAndWait(datasetId, sessionId);
    expect(rowsOf(await inspect(client.emulator, datasetId), 'orders')).toEqual([['1', '2020-01-01', 'a', '1', '1']]);
  });

  it.each([
    ['a short row', '[[1,"2020-01-01","a",1,1],[2,"2020-01-01","b",2]]', /row 2: expected 5 values, got 4/],
    ['an object instead of rows', '{"ID":1}', /must be a JSON array/],
    ['an int32 overflow', '[[2147483648,"2020-01-01","a",1,1]]', /row 1, column "ID" \(INTEGER\): 2147483648 is outside the 32-bit integer range/],
    ['a fraction in an INTEGER column', '[[1.0,"2020-01-01","a",1,1]]', /column "ID" \(INTEGER\): 1.0 is not an integer/],
    ['an int64 overflow', '[[1,"2020-01-01","a",1,9223372036854775808]]', /column "Big" \(BIGINTEGER\): 9223372036854775808 is outside the 64-bit/],
    ['a double overflow', '[[1,"2020-01-01","a",1e400,1]]', /column "Cost" \(DOUBLE\): 1e400 is not finite/],
    ['a quoted number in a DOUBLE column', '[[1,"2020-01-01","a","1.5",1]]', /column "Cost" \(DOUBLE\): "1.5" is not a JSON number/],
    ['a number in a STRING column', '[[1,"2020-01-01",7,1,1]]', /column "Category" \(STRING\): 7 is not a JSON string/],
    ['an impossible date', '[[1,"2021-02-29","a",1,1]]', /column "Day" \(DATE\): "2021-02-29" is not a date/],
    ['a date-time in a DATE column', '[[1,"2021-02-01T00:00:00","a",1,1]]', /column "Day" \(DATE\)/],
  ])('rejects a ROW chunk with %s, naming table, index, row and column', async (_name, json, message) => {
    const client = await loggedIn();
    const { datasetId, sessionId } = await ordersSession(client);
    const reply = await client.putChunk(datasetId, sessionId, 'orders', 3, json);
    expectError(reply, 400, 'ERR006', message);
    expect(reply.json.message).toMatch(/^table "orders", index 3/);
  });

  it('accepts the exact 32- and 64-bit integer limits', async () => {
    const client = await loggedIn({ publishPolls: 0 });
    const { datasetId, sessionId } = await ordersSession(client);
    const json = '[[2147483647,"2020-01-01","a",-1.5e-3,9223372036854775807],[-2147483648,"2020-01-01","b",0,-9223372036854775808],[-999999999,"2020-01-01","c",0,-0]]';
    expect((await client.putChunk(datasetId, sessionId, 'orders', 1, json)).status).toBe(200);
    expectError(await client.putChunk(datasetId, sessionId, 'orders', 2, '[[-2147483649,"2020-01-01","a",0,0]]'), 400, 'ERR006', /outside the 32-bit/);
    await client.publishAndWait(datasetId, sessionId);
    expect(rowsOf(await inspect(client.emulator, datasetId), 'orders')?.map((r) => [(r as string[])[0], (r as string[])[4]])).toEqual([
      ['2147483647', '9223372036854775807'],
      ['-2147483648', '-9223372036854775808'],
      ['-999999999', '-0'],
    ]);
  });

  it.each([
    ['a zone suffix', '2020-01-02T03:04:05Z'],
    ['an offset', '2020-01-02T03:04:05+01:00'],
    ['a space separator', '2020-01-02 03:04:05'],
    ['no seconds', '2020-01-02T03:04'],
    ['ten fraction digits', '2020-01-02T03:04:05.1234567890'],
    ['hour 24', '2020-01-02T24:00:00'],
  ])('rejects a DATETIME with %s', async (_name, value) => {
    const client = await loggedIn();
    const datasetId = await client.createModel();
    const sessionId = await client.openSession(datasetId, [{ name: 'shipments', updatePolicy: 'add', columnHeaders: ['ID', 'Stamp'] }]);
    const reply = await client.putChunk(datasetId, sessionId, 'shipments', 1, JSON.stringify([[1, value]]));
    expectError(reply, 400, 'ERR006', /row 1, column "Stamp" \(DATETIME\)/);
  });

  it('rejects a TIME past 23:59:59 and a COLUMN chunk with uneven columns', async () => {
    const client = await loggedIn();
    const datasetId = await client.createModel();
    const sessionId = await client.openSession(datasetId, [{ name: 'shipments', updatePolicy: 'add', orientation: 'COLUMN', columnHeaders: ['ID', 'At'] }]);
    expectError(await client.putChunk(datasetId, sessionId, 'shipments', 1, '[[1,2],["10:00:00","10:60:00"]]'), 400, 'ERR006', /row 2, column "At" \(TIME\)/);
    expectError(await client.putChunk(datasetId, sessionId, 'shipments', 1, '[[1,2],["10:00:00"]]'), 400, 'ERR006', /column "At": has 1 values but the first column has 2/);
    expectError(await client.putChunk(datasetId, sessionId, 'shipments', 1, '[[1,2]]'), 400, 'ERR006', /needs 2 column arrays, got 1/);
  });

  it('stores invalid dates as null when invalidDate is null', async () => {
    const client = await loggedIn({ invalidDate: 'null' });
    const datasetId = await client.createModel();
    const sessionId = await client.openSession(datasetId, [{ name: 'shipments', updatePolicy: 'add', columnHeaders: ['ID', 'Stamp', 'At'] }]);
    expect((await client.putChunk(datasetId, sessionId, 'shipments', 1, '[[1,"2020-01-02 03:04:05",1577934245000],[2,"2020-01-02T03:04:05","25:00:00"]]')).status).toBe(200);
    // Only temporal columns are lenient; other type errors are still rejected.
    expectError(await client.putChunk(datasetId, sessionId, 'shipments', 2, '[[2147483648,null,null]]'), 400, 'ERR006');
    await client.publishAndWait(datasetId, sessionId);
    expect(rowsOf(await inspect(client.emulator, datasetId), 'shipments')).toEqual([
      ['1', null, null, null, null],
      ['2', '2020-01-02T03:04:05', null, null, null],
    ]);
  });

  it.each([
    ['zero', 0],
    ['a fraction', 1.5],
    ['a negative string', '-1'],
    ['a padded string', '01'],
  ])('rejects chunk index %s', async (_name, index) => {
    const client = await loggedIn();
    const { datasetId, sessionId } = await ordersSession(client);
    expectError(await client.putChunk(datasetId, sessionId, 'orders', index, '[]'), 400, 'ERR006', /index must be an integer/);
  });

  it('answers 404 ERR004 for a table that is not part of the session', async () => {
    const client = await loggedIn();
    const { datasetId, sessionId } = await ordersSession(client);
    expectError(await client.putChunk(datasetId, sessionId, 'shipments', 1, '[]'), 404, 'ERR004', /not part of upload session/);
    expectError(await client.putChunk(datasetId, sessionId, 'ghost', 1, '[]'), 404, 'ERR004', /does not exist/);
    expectError(await client.putChunk(datasetId, '0123456789ABCDEF0123456789ABCDEF', 'orders', 1, '[]'), 404, 'ERR004');
  });

  it('lets a repeated chunk index replace the earlier chunk by default', async () => {
    const client = await loggedIn();
    const { datasetId, sessionId } = await ordersSession(client);
    expect((await client.putChunk(datasetId, sessionId, 'orders', 1, '[[1,"2020-01-01","old",1,1]]')).status).toBe(200);
    expect((await client.putChunk(datasetId, sessionId, 'orders', 1, '[[1,"2020-01-01","new",1,1]]')).status).toBe(200);
    await client.publishAndWait(datasetId, sessionId);
    expect(rowsOf(await inspect(client.emulator, datasetId), 'orders')).toEqual([['1', '2020-01-01', 'new', '1', '1']]);
  });

  it('rejects a repeated chunk index when duplicateChunkIndex is reject', async () => {
    const client = await loggedIn({ duplicateChunkIndex: 'reject' });
    const { datasetId, sessionId } = await ordersSession(client);
    expect((await client.putChunk(datasetId, sessionId, 'orders', 1, '[[1,"2020-01-01","old",1,1]]')).status).toBe(200);
    expectError(await client.putChunk(datasetId, sessionId, 'orders', '1', '[[1,"2020-01-01","new",1,1]]'), 400, 'ERR006', /already uploaded/);
  });

  it('answers 413 with ERR006 for bodies over maxBodyBytes, declared or streamed, and keeps serving', async () => {
    const client = await loggedIn({ maxBodyBytes: 3000 });
    const { datasetId, sessionId } = await ordersSession(client);
    const big = JSON.stringify(Array.from({ length: 200 }, (_, i) => [i, '2020-01-01', 'x', 1, 1]));
    expectError(await client.putChunk(datasetId, sessionId, 'orders', 1, big), 413, 'ERR006', /larger than 3000 bytes/);
    async function* streamed(): AsyncIterable<Buffer> {
      for (let i = 0; i < 40; i++) yield Buffer.from('x'.repeat(100));
    }
    const reply = await send(`${client.emulator.url}/datasets/${datasetId}/uploadSessions/${sessionId}`, 'PUT', client.headers(), Readable.from(streamed()));
    expectError(reply, 413, 'ERR006');
    expect((await client.putChunk(datasetId, sessionId, 'orders', 1, '[[1,"2020-01-01","a",1,1]]')).status).toBe(200);
  });
});

describe('MicroStrategy emulator: chunk bodies', () => {
  // Over 64 KiB of base64, so the body arrives in several parts.
  const rows = Array.from({ length: 2500 }, (_, i) => [i, `2020-1-${1 + (i % 28)}`, i % 7 === 0 ? 'Café "東京"\n😀' : `cat ${i}`, i / 4, 2 ** 40 + i]);
  const json = JSON.stringify(rows);

  function bodyText(tableName: string, index: unknown, data: string): string {
    return `{"tableName":${JSON.stringify(tableName)},"index":${JSON.stringify(index)},"data":${JSON.stringify(data)}}`;
  }

  it('reads a chunk the same in every body shape, with the same checksum whether rows are kept or not', async () => {
    const checksums: string[] = [];
    for (const keepRows of [true, false]) {
      const client = await loggedIn({ keepRows, publishPolls: 0 });
      const { datasetId, sessionId } = await ordersSession(client);
      const path = `/datasets/${datasetId}/uploadSessions/${sessionId}`;
      const data = b64(json);
      const bodies: Body[] = [
        bodyText('orders', 1, data),
        JSON.stringify({ tableName: 'orders', index: 2, data }, null, 2),
        `{"index":3,"data":"${data}","tableName":"orders"}`,
        bodyText('orders', '4', data),
        '{"tableName":"\\u006frders","index":5,"data":"' + data + '"}',
        Readable.from([Buffer.from(bodyText('orders', 6, data))]),
      ];
      for (const body of bodies) {
        const reply = await send(`${client.emulator.url}${path}`, 'PUT', client.headers(), body);
        expect(reply.status).toBe(200);
      }
      await client.publishAndWait(datasetId, sessionId);
      const table = (await inspect(client.emulator, datasetId)).tables.find((t) => t.name === 'orders');
      expect(table?.rowCount).toBe(6 * rows.length);
      checksums.push(table?.checksum ?? '');
    }
    expect(checksums[1]).toBe(checksums[0]);
  });

  it.each([
    ['a character outside the alphabet mid-data', (data: string) => bodyText('orders', 1, `${data.slice(0, 40000)}!${data.slice(40001)}`), 400, /^table "orders", index 1: data is not valid base64/],
    ['a URL-safe character mid-data', (data: string) => bodyText('orders', 1, `${data.slice(0, 40000)}-${data.slice(40001)}`), 400, /not valid base64/],
    ['padding mid-data', (data: string) => bodyText('orders', 1, `${data.slice(0, 40000)}=${data.slice(40001)}`), 400, /not valid base64/],
    ['a line break mid-data', (data: string) => bodyText('orders', 1, `${data.slice(0, 40000)}\n${data.slice(40000, -4)}`), 400, /not valid base64/],
    ['a quote mid-data', (data: string) => `{"tableName":"orders","index":1,"data":"${data.slice(0, 40000)}"${data.slice(40001)}"}`, 400, /^Invalid JSON/],
    ['a raw line break mid-data', (data: string) => `{"tableName":"orders","index":1,"data":"${data.slice(0, 40000)}\n${data.slice(40001)}"}`, 400, /^Invalid JSON: Control character/],
    ['a row error deep in the chunk', () => bodyText('orders', 1, b64(json.replace('[2400,', '[2400.5,'))), 400, /^table "orders", index 1, row 2401, column "ID" \(INTEGER\): 2400\.5 is not an integer number$/],
    ['a bad date deep in the chunk', () => bodyText('orders', 1, b64(json.replace('"2020-1-5"', '"2020-2-30"'))), 400, /, row 5, column "Day" \(DATE\): "2020-2-30" is not a date YYYY-MM-DD$/],
    ['a table outside the session', (data: string) => bodyText('shipments', 1, data), 404, /not part of upload session/],
  ])('rejects a chunk body with %s the same way whether rows are kept or not', async (_name, body, status, message) => {
    const replies: Array<{ code: string; message: string }> = [];
    for (const keepRows of [true, false]) {
      const client = await loggedIn({ keepRows });
      const { datasetId, sessionId } = await ordersSession(client);
      const reply = await client.call('PUT', `/datasets/${datasetId}/uploadSessions/${sessionId}`, body(b64(json)));
      expectError(reply, status, status === 404 ? 'ERR004' : 'ERR006', message);
      replies.push({ code: reply.json.code, message: String(reply.json.message).replace(/[0-9A-F]{32}/g, '<id>') });
    }
    expect(replies[1]).toEqual(replies[0]);
  });

  it('refuses a chunk body in the usual shape without a JSON Content-Type', async () => {
    const client = await loggedIn({ keepRows: false });
    const { datasetId, sessionId } = await ordersSession(client);
    const reply = await client.call('PUT', `/datasets/${datasetId}/uploadSessions/${sessionId}`, bodyText('orders', 1, b64(json)), { 'content-type': 'text/plain' });
    expectError(reply, 415, 'ERR006', /Content-Type must be application\/json/);
  });
});

describe('MicroStrategy emulator: publishing', () => {
  it('refuses to publish a table whose chunk indexes have a gap, and publishes once it is filled', async () => {
    const client = await loggedIn();
    const { datasetId, sessionId } = await ordersSession(client);
    for (const index of [1, 3]) {
      expect((await client.putChunk(datasetId, sessionId, 'orders', index, `[[${index},"2020-01-01","a",1,1]]`)).status).toBe(200);
    }
    expectError(await client.publish(datasetId, sessionId), 400, 'ERR006', /table "orders".*received 1, 3, missing 2/);
    expect((await client.putChunk(datasetId, sessionId, 'orders', 2, '[[2,"2020-01-01","a",1,1]]')).status).toBe(200);
    await client.publishAndWait(datasetId, sessionId);
    expect(rowsOf(await inspect(client.emulator, datasetId), 'orders')?.map((r) => (r as string[])[0])).toEqual(['1', '2', '3']);
    expectError(await client.publish(datasetId, sessionId), 400, 'ERR006', /already been published/);
    expectError(await client.putChunk(datasetId, sessionId, 'orders', 4, '[]'), 400, 'ERR006', /already been published/);
  });

  it('answers publishStatus before publish with 400 ERR006', async () => {
    const client = await loggedIn();
    const { datasetId, sessionId } = await ordersSession(client);
    expectError(await client.status(datasetId, sessionId), 400, 'ERR006', /not been published/);
  });

  it('ends a failing publish with status 3 and leaves the data unchanged', async () => {
    const client = await loggedIn({ publishOutcome: 'fail', publishPolls: 1 });
    const { datasetId, sessionId } = await ordersSession(client);
    expect((await client.putChunk(datasetId, sessionId, 'orders', 1, '[[1,"2020-01-01","a",1,1]]')).status).toBe(200);
    expect((await client.publish(datasetId, sessionId)).status).toBe(200);
    expect((await client.status(datasetId, sessionId)).json.status).toBe(6);
    const final = await client.status(datasetId, sessionId);
    expect(final.json).toMatchObject({ status: 3, message: expect.stringMatching(/failed/) });
    expect((await client.status(datasetId, sessionId)).json.status).toBe(3);
    const inspection = await inspect(client.emulator, datasetId);
    expect(rowsOf(inspection, 'orders')).toEqual([]);
    expect(inspection.publishes).toBe(0);
  });

  it('keeps a never-ending publish at status 6 without changing the data', async () => {
    const client = await loggedIn({ publishOutcome: 'never' });
    const { datasetId, sessionId } = await ordersSession(client);
    expect((await client.putChunk(datasetId, sessionId, 'orders', 1, '[[1,"2020-01-01","a",1,1]]')).status).toBe(200);
    expect((await client.publish(datasetId, sessionId)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await client.status(datasetId, sessionId)).json).toMatchObject({ status: 6, message: 'sql execution' });
    expect(rowsOf(await inspect(client.emulator, datasetId), 'orders')).toEqual([]);
    // Deleting cancels the unfinished publish; the dataset is then free again.
    expect((await client.call('DELETE', `/datasets/${datasetId}/uploadSessions/${sessionId}`)).status).toBe(200);
    expect((await inspect(client.emulator, datasetId)).uploadSessions[0]).toMatchObject({ state: 'cancelled', deleted: true });
    expectError(await client.status(datasetId, sessionId), 404, 'ERR004');
  });

  it('sends the status as a string when publishStatusAsString is on', async () => {
    const client = await loggedIn({ publishStatusAsString: true, publishPolls: 1 });
    const { datasetId, sessionId } = await ordersSession(client);
    expect((await client.publish(datasetId, sessionId)).status).toBe(200);
    expect((await client.status(datasetId, sessionId)).json).toEqual({ uploadSessionId: sessionId, status: '6', message: 'sql execution' });
    expect((await client.status(datasetId, sessionId)).text).toContain('"status":"1"');
  });

  it('applies add, replace and update by the attribute key', async () => {
    const client = await loggedIn({ publishPolls: 0 });
    const datasetId = await client.createModel(itemsModel());
    const load = async (policy: string, json: string): Promise<unknown[] | undefined> => {
      const sessionId = await client.openSession(datasetId, [{ name: 'items', updatePolicy: policy }]);
      expect((await client.putChunk(datasetId, sessionId, 'items', 1, json)).status).toBe(200);
      await client.publishAndWait(datasetId, sessionId);
      return rowsOf(await inspect(client.emulator, datasetId), 'items');
    };
    expect(await load('add', '[[1,"one",10],[2,"two",20]]')).toEqual([['1', 'one', '10'], ['2', 'two', '20']]);
    expect(await load('add', '[[2,"two",21]]')).toEqual([['1', 'one', '10'], ['2', 'two', '20'], ['2', 'two', '21']]);
    expect(await load('replace', '[[1,"one",10],[2,"two",20]]')).toEqual([['1', 'one', '10'], ['2', 'two', '20']]);
    // Label is part of the key (a DESC form is still an attribute), so "TWO" matches nothing.
    expect(await load('update', '[[2,"two",22],[3,"three",30],[2,"TWO",99]]')).toEqual([['1', 'one', '10'], ['2', 'two', '22']]);
  });

  it('applies upsert and a column subset, and truncates on a replace with no chunks', async () => {
    const client = await loggedIn({ publishPolls: 0 });
    const datasetId = await client.createModel(itemsModel());
    const run = async (policy: string, chunks: string[], columnHeaders?: string[]): Promise<unknown[] | undefined> => {
      const sessionId = await client.openSession(datasetId, [{ name: 'items', updatePolicy: policy, ...(columnHeaders ? { columnHeaders } : {}) }]);
      for (const [i, json] of chunks.entries()) expect((await client.putChunk(datasetId, sessionId, 'items', i + 1, json)).status).toBe(200);
      await client.publishAndWait(datasetId, sessionId);
      return rowsOf(await inspect(client.emulator, datasetId), 'items');
    };
    expect(await run('add', ['[[1,"one",10],[2,"two",20]]'])).toEqual([['1', 'one', '10'], ['2', 'two', '20']]);
    expect(await run('upsert', ['[[30,3,"three"]]', '[[11,1,"one"]]'], ['Qty', 'Key', 'Label'])).toEqual([
      ['1', 'one', '11'],
      ['2', 'two', '20'],
      ['3', 'three', '30'],
    ]);
    expect(await run('add', ['[[4,"four"]]'], ['Key', 'Label'])).toEqual([
      ['1', 'one', '11'],
      ['2', 'two', '20'],
      ['3', 'three', '30'],
      ['4', 'four', null],
    ]);
    expect(await run('replace', [])).toEqual([]);
    expect((await inspect(client.emulator, datasetId)).publishes).toBe(4);
  });

  it('keeps only counts and the same checksum when keepRows is off', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => [i, `label ${i}`, i * 3]);
    const checksums: string[] = [];
    for (const keepRows of [true, false]) {
      const client = await loggedIn({ keepRows });
      const datasetId = await client.createModel(itemsModel());
      for (const policy of ['replace', 'add']) {
        const sessionId = await client.openSession(datasetId, [{ name: 'items', updatePolicy: policy }]);
        // Out of order, so the running checksum has to wait for index 1.
        for (const index of [3, 1, 2]) {
          const part = rows.slice((index - 1) * 20, index * 20);
          expect((await client.putChunk(datasetId, sessionId, 'items', index, JSON.stringify(part))).status).toBe(200);
        }
        await client.publishAndWait(datasetId, sessionId);
      }
      const table = (await inspect(client.emulator, datasetId)).tables[0];
      expect(table?.rowCount).toBe(100);
      expect(table?.rows === undefined).toBe(!keepRows);
      checksums.push(table?.checksum ?? '');
      if (!keepRows) {
        expectError(await client.call('POST', `/datasets/${datasetId}/uploadSessions`, { tables: [{ name: 'items', updatePolicy: 'upsert' }] }), 400, 'ERR010');
      }
    }
    expect(checksums[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(checksums[1]).toBe(checksums[0]);
  });

  it('accepts an identical retry of a folded chunk but not different data when keepRows is off', async () => {
    const client = await loggedIn({ keepRows: false });
    const datasetId = await client.createModel(itemsModel());
    const sessionId = await client.openSession(datasetId, [{ name: 'items', updatePolicy: 'add' }]);
    expect((await client.putChunk(datasetId, sessionId, 'items', 1, '[[1,"one",10]]')).status).toBe(200);
    expect((await client.putChunk(datasetId, sessionId, 'items', 2, '[[2,"two",20]]')).status).toBe(200);
    expect((await client.putChunk(datasetId, sessionId, 'items', 1, '[[1, "one", 10]]')).status).toBe(200);
    expectError(await client.putChunk(datasetId, sessionId, 'items', 1, '[[1,"one",11]]'), 400, 'ERR010');
    await client.publishAndWait(datasetId, sessionId);
    expect((await inspect(client.emulator, datasetId)).tables[0]?.rowCount).toBe(2);
  });

  it('logs one line per request when given a log function', async () => {
    const lines: string[] = [];
    const client = await loggedIn({ log: (line) => lines.push(line) });
    await client.call('GET', '/datasets/0123456789ABCDEF0123456789ABCDEF');
    expect(lines).toEqual(['POST /MicroStrategyLibrary/api/auth/login 204', expect.stringMatching(/^GET \/MicroStrategyLibrary\/api\/datasets\/0123456789ABCDEF0123456789ABCDEF 404 ERR004 /)]);
    expect(lines.join('\n')).not.toContain(client.token);
  });
});

describe('startMstrEmulator options', () => {
  it('refuses options it cannot honour', async () => {
    await expect(startMstrEmulator({ publishPolls: -1 })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(startMstrEmulator({ projects: [{ id: 'demo', name: 'x' }] })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(startMstrEmulator({ duplicateChunkIndex: 'append' as 'reject' })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('MicroStrategy emulator: folder listings', () => {
  const OTHER_PROJECT = '0123456789ABCDEF0123456789ABCDEF';
  const FOLDER = 'A1B2C3D4E5F60718293A4B5C6D7E8F90';
  const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;

  it('lists the datasets of My Reports with their exact names and ids', async () => {
    const client = await loggedIn();
    const first = await client.createModel(demoModel('Umsatz 2024 – Café'));
    const second = await client.createModel(demoModel('Sales'));
    const reply = await client.call('GET', '/folders/preDefined/20');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual([
      { id: first, name: 'Umsatz 2024 – Café', type: 3, subtype: 776, dateCreated: expect.stringMatching(STAMP), dateModified: expect.stringMatching(STAMP) },
      { id: second, name: 'Sales', type: 3, subtype: 776, dateCreated: expect.stringMatching(STAMP), dateModified: expect.stringMatching(STAMP) },
    ]);
    expect((await client.call('GET', '/folders/D3C7D461F69C4610AA6BAA5EF51F4125')).json).toEqual(reply.json);
  });

  it('lists a named folder by its id in any case, and an unused folder as empty', async () => {
    const client = await loggedIn();
    const inFolder = await client.createModel({ ...demoModel('Shared'), folderId: FOLDER.toLowerCase() });
    await client.createModel(demoModel('Private'));
    expect((await client.call('GET', `/folders/${FOLDER.toLowerCase()}`)).json).toEqual([expect.objectContaining({ id: inFolder, name: 'Shared' })]);
    expect((await client.call('GET', `/folders/${FOLDER}`)).json.map((e: { id: string }) => e.id)).toEqual([inFolder]);
    expect((await client.call('GET', '/folders/FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF')).json).toEqual([]);
  });

  it('keeps one entry with the same id when a same-named model overwrites a dataset', async () => {
    const client = await loggedIn();
    const first = await client.createModel(demoModel('Sales'));
    const again = await client.createModel(demoModel('Sales'));
    expect(again).toBe(first);
    expect((await client.call('GET', '/folders/preDefined/20')).json.map((e: { id: string; name: string }) => [e.id, e.name])).toEqual([[first, 'Sales']]);
  });

  it('shows only the datasets of the project in the header', async () => {
    const client = await loggedIn({ projects: [{ id: PROJECT, name: 'Demo' }, { id: OTHER_PROJECT, name: 'Other' }] });
    await client.createModel(demoModel('Sales'));
    client.project = OTHER_PROJECT;
    expect((await client.call('GET', '/folders/preDefined/20')).json).toEqual([]);
  });

  it('answers 404 ERR004 for a malformed folder id or another predefined folder', async () => {
    const client = await loggedIn();
    expectError(await client.call('GET', '/folders/My%20Reports'), 404, 'ERR004', /Folder .* was not found/);
    expectError(await client.call('GET', '/folders/preDefined/7'), 404, 'ERR004', /only 20, My Reports/);
    expectError(await client.call('GET', '/folders/preDefined'), 404, 'ERR004');
  });

  it('requires a login and the project header', async () => {
    const client = await loggedIn();
    client.project = undefined;
    expectError(await client.call('GET', '/folders/preDefined/20'), 400, 'ERR005');
    client.project = PROJECT;
    client.token = 'nonsense';
    expectError(await client.call('GET', '/folders/preDefined/20'), 401, 'ERR009');
  });
});
