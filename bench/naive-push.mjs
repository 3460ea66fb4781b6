// Shared half of the naive reference pipelines: the Push Data API v2 exchange done the obvious way
// (undici request, one chunk at a time) and row chunking by estimated JSON size, each chunk made
// with JSON.stringify, Buffer.from and toString('base64'), as a straightforward tool would.

import { performance } from 'node:perf_hooks';
import { request } from 'undici';

// MSTRPUSH_BENCH_TRACE=1 prints per-chunk timings on stderr (not used by the measured runs).
const trace = process.env.MSTRPUSH_BENCH_TRACE === '1' ? (line) => process.stderr.write(`naive: ${line}\n`) : () => {};

const NETWORK_ERRORS = new Set(['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** Reads the connection from the same variables the CLI uses. */
export function connectionFromEnv() {
  const need = (name) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    url: need('MSTRPUSH_URL').replace(/\/+$/, ''),
    username: need('MSTRPUSH_USERNAME'),
    password: need('MSTRPUSH_PASSWORD'),
    projectId: need('MSTRPUSH_PROJECT_ID'),
  };
}

/** Minimal client: logs in, keeps the token and every cookie, and sends the project header. */
export class NaiveClient {
  constructor(connection) {
    this.connection = connection;
    this.token = undefined;
    this.cookies = new Map();
    this.retries = 0;
  }

  async login() {
    const { url, username, password } = this.connection;
    const res = await request(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ username, password, loginMode: 1 }),
    });
    const text = await res.body.text();
    if (res.statusCode !== 204 && res.statusCode !== 200) throw new Error(`login: HTTP ${res.statusCode} ${text}`);
    this.token = res.headers['x-mstr-authtoken'];
    const setCookie = res.headers['set-cookie'];
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const pair = line.split(';', 1)[0];
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  async call(method, path, body) {
    const headers = {
      accept: 'application/json',
      'x-mstr-authtoken': this.token,
      'x-mstr-projectid': this.connection.projectId,
      cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    let res;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await request(`${this.connection.url}${path}`, { method, headers, body: payload });
        break;
      } catch (error) {
        // A kept-alive connection that the server closed while this process was busy building a
        // chunk fails on write; like any HTTP client with retries, send an idempotent call again.
        if (attempt > 2 || method === 'POST' || !NETWORK_ERRORS.has(error.code)) throw error;
        this.retries++;
        trace(`${method} ${path}: ${error.code}, retrying`);
      }
    }
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode > 299) {
      throw new Error(`${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 500)}`);
    }
    return text ? JSON.parse(text) : undefined;
  }

  async logout() {
    await this.call('POST', '/auth/logout').catch(() => {});
  }
}

/**
 * Creates the dataset model from a `mstrpush schema --json` table (same names, types and roles as
 * the tool would use), opens an upload session and returns a sink that takes rows as arrays.
 */
export async function openUpload(client, { datasetName, table, stringify, maxChunkBytes = 100_000_000 }) {
  await client.login();
  const columns = table.columns;
  const model = {
    name: datasetName,
    folderId: '',
    tables: [{ name: table.name, columnHeaders: columns.map((c) => ({ name: c.name, dataType: c.type })) }],
    attributes: columns
      .filter((c) => c.role === 'attribute')
      .map((c) => ({ name: c.name, attributeForms: [{ category: 'ID', expressions: [{ tableName: table.name, columnName: c.name }] }] })),
    metrics: columns
      .filter((c) => c.role === 'metric')
      .map((c) => ({ name: c.name, expressions: [{ tableName: table.name, columnName: c.name }] })),
  };
  const { id: datasetId } = await client.call('POST', '/datasets/models', model);
  const { uploadSessionId } = await client.call('POST', `/datasets/${datasetId}/uploadSessions`, {
    tables: [{ name: table.name, updatePolicy: 'replace', orientation: 'ROW', columnHeaders: columns.map((c) => c.name) }],
  });
  const sessionPath = `/datasets/${datasetId}/uploadSessions/${uploadSessionId}`;

  // Rows per chunk start from a sample of the first rows and are re-estimated from every chunk
  // actually built, aiming at 95 % of the limit; a chunk that still comes out too large is split.
  const SAMPLE_ROWS = 2000;
  const FILL = 0.95;
  let rowsPerChunk = 0;
  let rows = [];
  let index = 0;
  let totalRows = 0;
  let totalJsonBytes = 0;

  async function send(batch) {
    const json = Buffer.from(stringify(batch), 'utf8');
    if (json.length > maxChunkBytes && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      await send(batch.slice(0, half));
      await send(batch.slice(half));
      return;
    }
    rowsPerChunk = Math.max(1, Math.floor((batch.length * maxChunkBytes * FILL) / json.length));
    index++;
    const data = json.toString('base64');
    const body = `{"tableName":${JSON.stringify(table.name)},"index":${index},"data":"${data}"}`;
    const sent = performance.now();
    await client.call('PUT', sessionPath, body);
    trace(`chunk ${index}: ${batch.length} rows, ${json.length} JSON bytes, PUT answered in ${(performance.now() - sent).toFixed(0)} ms`);
    totalRows += batch.length;
    totalJsonBytes += json.length;
  }

  return {
    datasetId,
    uploadSessionId,
    /** Takes one row; returns a promise only when a chunk was cut and is being sent. */
    add(row) {
      rows.push(row);
      if (rowsPerChunk === 0 && rows.length === SAMPLE_ROWS) {
        const sampleBytes = Buffer.byteLength(stringify(rows), 'utf8');
        rowsPerChunk = Math.max(1, Math.floor((SAMPLE_ROWS * maxChunkBytes * FILL) / sampleBytes));
      }
      if (rowsPerChunk > 0 && rows.length >= rowsPerChunk) {
        const batch = rows;
        rows = [];
        return send(batch);
      }
      return undefined;
    },
    async finish() {
      if (rows.length > 0) {
        const batch = rows;
        rows = [];
        await send(batch);
      }
      const publishing = performance.now();
      await client.call('POST', `${sessionPath}/publish`);
      // Same schedule as the tool: first check after 200 ms, growing by half up to 1 s.
      for (let wait = 200; ; wait = Math.min(wait * 1.5, 1000)) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        const status = await client.call('GET', `${sessionPath}/publishStatus`);
        const code = Number(status.status);
        if (code === 1) break;
        if (![4, 5, 6, 9, 10, 13, 14, 17].includes(code)) throw new Error(`publication failed: ${JSON.stringify(status)}`);
      }
      trace(`published in ${(performance.now() - publishing).toFixed(0)} ms`);
      await client.logout();
      return { datasetId, uploadSessionId, rows: totalRows, chunks: index, jsonBytes: totalJsonBytes, retries: client.retries };
    },
  };
}

/** `--name value` style options after the positional file argument. */
export function parseArgs(argv) {
  const [file, ...rest] = argv;
  const options = {};
  for (let i = 0; i < rest.length; i += 2) options[rest[i].replace(/^--/, '')] = rest[i + 1];
  if (!file || !options.schema || !options.name) {
    throw new Error('usage: node <script> <file> --schema <schema.json> --name <dataset name>');
  }
  return { file, ...options };
}
