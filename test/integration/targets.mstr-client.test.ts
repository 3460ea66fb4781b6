// MstrClient over the real HttpClient against a scripted node:http server: each test decides
// every answer, so the client's handling of tokens, cookies, re-login and error bodies is exact.

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient, streamedBytes } from '../../src/http/client.js';
import { MstrClient, normalizeBaseUrl } from '../../src/targets/mstr/client.js';
import { buildChunkBody } from '../../src/targets/mstr/payload.js';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Answer {
  status: number;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer | object;
}

type Script = (req: Recorded, seen: Recorded[]) => Answer;

interface ScriptedServer {
  url: string;
  requests: Recorded[];
  /** Answers by `METHOD /path` (path without the query); a missing route answers 404. */
  routes: Map<string, Script>;
  close(): Promise<void>;
}

async function startScriptedServer(): Promise<ScriptedServer> {
  const requests: Recorded[] = [];
  const routes = new Map<string, Script>();
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const recorded: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(parts) };
      requests.push(recorded);
      const route = routes.get(`${recorded.method} ${recorded.path.split('?')[0]}`);
      const answer: Answer = route ? route(recorded, requests) : { status: 404, body: { code: 'ERR004', message: 'HTTP 404 Not Found' } };
      const body =
        answer.body === undefined ? '' : typeof answer.body === 'string' || Buffer.isBuffer(answer.body) ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 10;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const PASSWORD = 'pw-S3cret!';
const PROJECT = 'B7CA92F04B9FAE8D941C3E9B7E0CD754';
const DATASET = 'D13539E5433CDB837363F086C6DA6B5C';
const SESSION = '9A4EE1C04C4EA20C8A976A8172034DD0';

let server: ScriptedServer;
let http: HttpClient;
let client: MstrClient;
let logins: number;

function makeClient(url: string, options: { projectId?: string } = { projectId: PROJECT }): MstrClient {
  const made: MstrClient = new MstrClient(http, {
    url,
    credentials: { username: 'alice', password: PASSWORD, loginMode: 1 },
    ...options,
  });
  client = made;
  return made;
}

/** A login that hands out token tokN and two cookies per call, as the real server's session does. */
function scriptLogin(): void {
  server.routes.set('POST /MicroStrategyLibrary/api/auth/login', () => {
    logins++;
    return {
      status: 204,
      headers: {
        'x-mstr-authtoken': `tok${logins}`,
        'set-cookie': [`JSESSIONID=JS${logins}; Path=/MicroStrategyLibrary; Secure; HttpOnly`, `iSession=is${logins}; Path=/`],
      },
    };
  });
}

async function errorOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const sessionsPath = `/MicroStrategyLibrary/api/datasets/${DATASET}/uploadSessions`;

beforeEach(async () => {
  server = await startScriptedServer();
  logins = 0;
  http = new HttpClient({ secrets: () => client?.secrets() ?? [], headersTimeoutMs: 5000, bodyTimeoutMs: 5000, connectTimeoutMs: 2000 });
  makeClient(`${server.url}/MicroStrategyLibrary/`);
  scriptLogin();
});

afterEach(async () => {
  await http.close();
  await server.close();
});

describe('MstrClient login and session headers', () => {
  it('logs in with a JSON body and sends the token, every cookie and the project on dataset calls', async () => {
    server.routes.set('GET /MicroStrategyLibrary/api/projects', () => ({ status: 200, body: [{ id: PROJECT, name: 'Tutorial' }, { id: 7 }] }));
    server.routes.set(`POST ${sessionsPath}`, () => ({ status: 200, body: { uploadSessionId: SESSION } }));

    await expect(client.listProjects()).resolves.toEqual([{ id: PROJECT, name: 'Tutorial' }]);
    await expect(client.createUploadSession(DATASET, [{ name: 't', policy: 'add', columns: ['a'] }])).resolves.toBe(SESSION);

    const [login, projects, create] = server.requests;
    expect(server.requests).toHaveLength(3);
    expect(login).toMatchObject({ method: 'POST', path: '/MicroStrategyLibrary/api/auth/login' });
    expect(login!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(login!.body.toString('utf8'))).toEqual({ username: 'alice', password: PASSWORD, loginMode: 1 });

    expect(projects!.headers['x-mstr-authtoken']).toBe('tok1');
    expect(projects!.headers.cookie).toBe('JSESSIONID=JS1; iSession=is1');
    expect(projects!.headers['x-mstr-projectid']).toBeUndefined();

    expect(create!.headers['x-mstr-authtoken']).toBe('tok1');
    expect(create!.headers.cookie).toBe('JSESSIONID=JS1; iSession=is1');
    expect(create!.headers['x-mstr-projectid']).toBe(PROJECT);
    expect(create!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(create!.body.toString('utf8'))).toEqual({
      tables: [{ name: 't', updatePolicy: 'add', orientation: 'ROW', columnHeaders: ['a'] }],
    });
    expect(client.relogins).toBe(0);
  });

  it('logs in again once on 401 ERR009 and repeats the same call with the new token and cookies', async () => {
    let creates = 0;
    server.routes.set(`POST ${sessionsPath}`, () => {
      creates++;
      return creates === 1
        ? { status: 401, body: { code: 'ERR009', message: "The user's session has expired, please reauthenticate", ticketId: 'a1' } }
        : { status: 200, body: { uploadSessionId: SESSION } };
    });
    await client.login();
    await expect(client.createUploadSession(DATASET, [{ name: 't', policy: 'replace', columns: ['a', 'b'] }])).resolves.toBe(SESSION);

    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /MicroStrategyLibrary/api/auth/login',
      `POST ${sessionsPath}`,
      'POST /MicroStrategyLibrary/api/auth/login',
      `POST ${sessionsPath}`,
    ]);
    const [, first, , repeat] = server.requests;
    expect(first!.headers['x-mstr-authtoken']).toBe('tok1');
    expect(repeat!.headers['x-mstr-authtoken']).toBe('tok2');
    expect(repeat!.headers.cookie).toBe('JSESSIONID=JS2; iSession=is2');
    expect(repeat!.headers['x-mstr-projectid']).toBe(PROJECT);
    expect(repeat!.body.equals(first!.body)).toBe(true);
    expect(client.relogins).toBe(1);
  });

  it('gives up with an AuthError after one re-login when the session is refused again', async () => {
    server.routes.set(`POST ${sessionsPath}`, () => ({ status: 401, body: { code: 'ERR009', message: 'Session invalid or timeout' } }));
    const error = await errorOf(() => client.createUploadSession(DATASET, [{ name: 't', policy: 'add', columns: ['a'] }]));
    expect(error).toMatchObject({ code: 'AUTH_FAILED', exitCode: 5 });
    expect(logins).toBe(2);
    expect(client.relogins).toBe(1);
    expect(server.requests).toHaveLength(4);
  });

  it('does not log in again for a 401 that is not ERR009', async () => {
    server.routes.set(`POST ${sessionsPath}`, () => ({ status: 401, body: { code: 'ERR003', message: 'nope' } }));
    const error = await errorOf(() => client.createUploadSession(DATASET, [{ name: 't', policy: 'add', columns: ['a'] }]));
    expect(error).toMatchObject({ code: 'AUTH_FAILED' });
    expect(logins).toBe(1);
  });

  it('turns a refused login into AUTH_FAILED with code, message and ticket on one line and no password', async () => {
    server.routes.set('POST /MicroStrategyLibrary/api/auth/login', () => ({
      status: 401,
      body: { code: 'ERR003', message: `Login failed\nfor alice with password ${PASSWORD}`, ticketId: 'b722e689f6104202972f7675563b9f97' },
    }));
    const error = await errorOf(() => client.login());
    expect(error).toMatchObject({ code: 'AUTH_FAILED', exitCode: 5 });
    const message = (error as Error).message;
    expect(message).toContain('login as "alice" failed');
    expect(message).toContain('401 ERR003 "Login failed for alice with password ***"');
    expect(message).toContain('(ticket b722e689f6104202972f7675563b9f97)');
    expect(message).not.toContain('\n');
    expect(message).not.toContain(PASSWORD);
    expect((error as { hint?: string }).hint).toContain('login mode');
  });

  it('rejects a login answer without a token as a bad response', async () => {
    server.routes.set('POST /MicroStrategyLibrary/api/auth/login', () => ({ status: 204 }));
    expect(await errorOf(() => client.login())).toMatchObject({ code: 'HTTP_BAD_RESPONSE' });
  });

  it('sends no project header and fails with AUTH_MISSING when no project is selected', async () => {
    makeClient(`${server.url}/MicroStrategyLibrary/api`, {});
    const error = await errorOf(() => client.publish(DATASET, SESSION));
    expect(error).toMatchObject({ code: 'AUTH_MISSING' });
    expect(server.requests.map((r) => r.path)).toEqual(['/MicroStrategyLibrary/api/auth/login']);
  });
});

describe('MstrClient error answers', () => {
  it('puts status, code, message, ticket and iServerCode of a wrapped error into one line', async () => {
    server.routes.set(`POST ${sessionsPath}`, () => ({
      status: 400,
      body: { errors: [{ code: 'ERR006', message: 'Invalid JSON', ticketId: 'b722e689f6104202972f7675563b9f97', iServerCode: -2147214568 }] },
    }));
    const error = await errorOf(() => client.createUploadSession(DATASET, [{ name: 't', policy: 'add', columns: ['a'] }]));
    expect(error).toMatchObject({
      code: 'HTTP_STATUS',
      exitCode: 6,
      detail: { status: 400, method: 'POST', code: 'ERR006', ticketId: 'b722e689f6104202972f7675563b9f97', iServerCode: -2147214568 },
    });
    expect((error as Error).message).toBe(
      `POST /datasets/${DATASET}/uploadSessions was refused: ` +
        '400 ERR006 "Invalid JSON" (ticket b722e689f6104202972f7675563b9f97, iServerCode -2147214568)',
    );
  });

  it('quotes the trimmed text of a body that is not JSON', async () => {
    server.routes.set(`POST ${sessionsPath}/${SESSION}/publish`, () => ({
      status: 500,
      headers: { 'content-type': 'text/html' },
      body: '\n   <html><body>Internal Server Error</body></html>  \n',
    }));
    const error = await errorOf(() => client.publish(DATASET, SESSION));
    expect(error).toMatchObject({ code: 'HTTP_STATUS', detail: { status: 500 } });
    expect((error as Error).message).toContain('500 "<html><body>Internal Server Error</body></html>"');
  });

  it('maps 404 to MSTR_NOT_FOUND', async () => {
    const error = await errorOf(() => client.getDataset('NOPE'));
    expect(error).toMatchObject({ code: 'MSTR_NOT_FOUND', detail: { status: 404, code: 'ERR004' } });
  });

  it('names the host and ECONNREFUSED when nothing listens', async () => {
    const closed = await startScriptedServer();
    await closed.close();
    const host = new URL(closed.url).host;
    makeClient(`${closed.url}/api`);
    const error = await errorOf(() => client.login());
    expect(error).toMatchObject({ code: 'HTTP_NETWORK', exitCode: 6 });
    expect((error as Error).message).toContain(host);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect((error as { hint?: string }).hint).toContain(host);
  });
});

describe('MstrClient upload calls', () => {
  it('sends a chunk as exactly the body buildChunkBody makes', async () => {
    server.routes.set(`PUT ${sessionsPath}/${SESSION}`, () => ({ status: 200 }));
    const json = Buffer.from(JSON.stringify([[1, 'Umsätze 📈'], [2, null]]), 'utf8');
    await client.putChunk(DATASET, SESSION, 'Sales "EU"', 7, json);
    const put = server.requests.at(-1)!;
    expect(put.method).toBe('PUT');
    expect(put.path).toBe(`${sessionsPath}/${SESSION}`);
    expect(put.headers['content-type']).toBe('application/json');
    expect(put.headers['x-mstr-projectid']).toBe(PROJECT);
    expect(put.body.equals(streamedBytes(buildChunkBody('Sales "EU"', 7, json)))).toBe(true);
    expect(put.headers['content-length']).toBe(String(put.body.length));
  });

  it('reads the publish status as a number whether the server sends a string or a number', async () => {
    const answers = [
      { uploadSessionId: SESSION, status: '6', message: 'sql execution' },
      { uploadSessionId: SESSION, status: 6 },
      { uploadSessionId: SESSION, status: 1, message: 'result ready' },
    ];
    server.routes.set(`GET ${sessionsPath}/${SESSION}/publishStatus`, (_req, seen) => ({
      status: 200,
      body: answers[seen.filter((r) => r.path.endsWith('/publishStatus')).length - 1]!,
    }));
    await expect(client.publishStatus(DATASET, SESSION)).resolves.toEqual({ status: 6, message: 'sql execution' });
    await expect(client.publishStatus(DATASET, SESSION)).resolves.toEqual({ status: 6, message: '' });
    await expect(client.publishStatus(DATASET, SESSION)).resolves.toEqual({ status: 1, message: 'result ready' });
  });

  it('rejects a publish status that is not a number', async () => {
    server.routes.set(`GET ${sessionsPath}/${SESSION}/publishStatus`, () => ({ status: 200, body: { status: 'done' } }));
    expect(await errorOf(() => client.publishStatus(DATASET, SESSION))).toMatchObject({ code: 'HTTP_BAD_RESPONSE' });
  });

  it('treats an already expired session as logged out', async () => {
    server.routes.set('POST /MicroStrategyLibrary/api/auth/logout', () => ({ status: 401, body: { code: 'ERR009', message: 'gone' } }));
    await client.login();
    await expect(client.logout()).resolves.toBeUndefined();
    expect(logins).toBe(1);
    expect(client.secrets()).toEqual([PASSWORD]);
  });
});

describe('normalizeBaseUrl', () => {
  it.each([
    ['https://h/MicroStrategyLibrary', 'https://h/MicroStrategyLibrary/api'],
    ['https://h/MicroStrategyLibrary/', 'https://h/MicroStrategyLibrary/api'],
    ['https://h/MicroStrategyLibrary/api', 'https://h/MicroStrategyLibrary/api'],
    ['https://h/MicroStrategyLibrary/api/', 'https://h/MicroStrategyLibrary/api'],
    ['https://h/MicroStrategyLibrary/api///', 'https://h/MicroStrategyLibrary/api'],
    ['https://h/Library/API', 'https://h/Library/API'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/api'],
    ['https://h/rapid', 'https://h/rapid/api'],
  ])('turns %j into %j', (input, expected) => {
    expect(normalizeBaseUrl(input)).toBe(expected);
  });

  it('sends requests under the normalised root', async () => {
    makeClient(`${server.url}/MicroStrategyLibrary/api//`);
    await client.login();
    expect(server.requests[0]!.path).toBe('/MicroStrategyLibrary/api/auth/login');
  });
});
