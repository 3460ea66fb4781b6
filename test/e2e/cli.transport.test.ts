// Transport rules: TLS verification on by default, extra CAs, --insecure with a warning,
// proxies from the environment, plain http only to this machine, and readable secrets.

import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { jsonResult, makeSandbox, runCli, useEmulator } from '../helpers/cli.js';

const emulator = useEmulator();
const scratch = makeSandbox();
afterAll(() => scratch.cleanup());

const keyFile = path.join(scratch.dir, 'key.pem');
const certFile = path.join(scratch.dir, 'cert.pem');
let tlsFront: https.Server;
let tlsUrl: string;

beforeAll(async () => {
  // A self-signed certificate for 127.0.0.1, made fresh for this run.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  const target = new URL(emulator.current().url);
  // An HTTPS front that relays every request to the emulator, as a TLS-terminating proxy would.
  tlsFront = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => tlsFront.listen(0, '127.0.0.1', resolve));
  tlsUrl = `https://127.0.0.1:${(tlsFront.address() as AddressInfo).port}${target.pathname}`;
});
afterAll(async () => {
  await new Promise((resolve) => tlsFront.close(resolve));
});

const envWith = (url: string) => ({ ...emulator.env(), MSTRPUSH_URL: url });
const stores = path.resolve('fixtures/demo/stores.csv');

describe('TLS', () => {
  it('refuses a certificate it cannot verify, without retrying', async () => {
    const result = await runCli(['status', 'ABC'], { env: envWith(tlsUrl) });
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/self[- ]signed certificate/i);
    expect(result.stderr).not.toMatch(/retry \d/);
  });

  it('trusts a CA given with --ca-file or NODE_EXTRA_CA_CERTS', async () => {
    const viaFlag = jsonResult(await runCli(['create', stores, '--name', 'Over TLS', '--ca-file', certFile, '--json'], { env: envWith(tlsUrl) }));
    expect(viaFlag.published).toBe(true);
    const viaEnv = await runCli(['status', viaFlag.datasetId, '--json'], { env: { ...envWith(tlsUrl), NODE_EXTRA_CA_CERTS: certFile } });
    expect(jsonResult(viaEnv).datasetId).toBe(viaFlag.datasetId);
  });

  it('skips verification only with --insecure, and warns', async () => {
    const result = await runCli(['create', stores, '--name', 'Insecure', '--insecure', '--json'], { env: envWith(tlsUrl) });
    expect(jsonResult(result).published).toBe(true);
    expect(result.stderr).toContain('TLS certificate checks are OFF (--insecure)');
  });
});

describe('plain http', () => {
  it('is refused for a host other than this machine unless --allow-http', async () => {
    const result = await runCli(['status', 'ABC'], { env: envWith('http://bi.example.com/MicroStrategyLibrary/api') });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('refusing to send credentials over plain http to bi.example.com');
  });
});

describe('proxies', () => {
  it('sends requests through HTTP_PROXY, and not for hosts in NO_PROXY', async () => {
    const tunnels: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const via = await runCli(['create', stores, '--name', 'Via proxy', '--json'], { env: { ...emulator.env(), HTTP_PROXY: proxyUrl } });
      expect(jsonResult(via).published).toBe(true);
      const target = new URL(emulator.current().url);
      expect(tunnels.length).toBeGreaterThan(0);
      expect(new Set(tunnels)).toEqual(new Set([`127.0.0.1:${target.port}`]));

      tunnels.length = 0;
      const direct = await runCli(['create', stores, '--name', 'No proxy', '--json'], { env: { ...emulator.env(), HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' } });
      expect(jsonResult(direct).published).toBe(true);
      expect(tunnels).toEqual([]);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

describe('config files holding secrets', () => {
  it('warn when other users can read them', async () => {
    const dir = path.join(scratch.dir, 'project');
    mkdirSync(dir, { recursive: true });
    const rc = path.join(dir, '.mstrpushrc');
    writeFileSync(rc, `url: ${emulator.current().url}\nusername: etl\npassword: etl-secret\nprojectId: B7CA92F04B9FAE8D941C3E9B7E0CD754\n`);
    chmodSync(rc, 0o644);
    const env = { MSTRPUSH_URL: undefined, MSTRPUSH_USERNAME: undefined, MSTRPUSH_PASSWORD: undefined, MSTRPUSH_PROJECT_ID: undefined };
    const readable = await runCli(['create', stores, '--name', 'From rc', '--json'], { env, cwd: dir });
    expect(jsonResult(readable).published).toBe(true);
    expect(readable.stderr).toContain(`${rc} holds a secret (password) and other users can read it`);
    expect(readable.stderr).not.toContain('etl-secret');

    chmodSync(rc, 0o600);
    const privateFile = await runCli(['create', stores, '--name', 'From private rc', '--json'], { env, cwd: dir });
    expect(jsonResult(privateFile).published).toBe(true);
    expect(privateFile.stderr).not.toContain('other users can read it');
  });
});
