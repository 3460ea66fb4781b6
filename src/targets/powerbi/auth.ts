// Microsoft Entra client-credentials sign-in for the Power BI API (powerbi-push-api.md §1.3):
// one token at a time, renewed before it expires and on demand after a 403 TokenExpired.

import { AuthError, RemoteError } from '../../errors.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../../http/client.js';

const COMMERCIAL_RESOURCE = 'https://analysis.windows.net/powerbi/api';

// REST host → resource of each national cloud (embed-sample-for-customers-national-clouds.md).
const RESOURCE_BY_API_HOST: Readonly<Record<string, string>> = {
  'api.powerbi.com': COMMERCIAL_RESOURCE,
  'api.powerbigov.us': 'https://analysis.usgovcloudapi.net/powerbi/api',
  'api.high.powerbigov.us': 'https://high.analysis.usgovcloudapi.net/powerbi/api',
  'api.mil.powerbigov.us': 'https://mil.analysis.usgovcloudapi.net/powerbi/api',
  'api.powerbi.cn': 'https://analysis.chinacloudapi.cn/powerbi/api',
};

/** The `.default` scope for the cloud the REST root belongs to; the commercial one for any other host. */
export function scopeForApiUrl(apiUrl: string): string {
  let host = '';
  try {
    host = new URL(apiUrl).hostname.toLowerCase();
  } catch {
    // an invalid URL fails later, where it is used
  }
  return `${RESOURCE_BY_API_HOST[host] ?? COMMERCIAL_RESOURCE}/.default`;
}

export interface ClientCredentials {
  /** Authority host, e.g. https://login.microsoftonline.com. */
  authorityUrl: string;
  /** Tenant id or domain; client credentials cannot use `common`. */
  tenant: string;
  clientId: string;
  clientSecret: string;
  scope: string;
}

export interface AccessToken {
  value: string;
  /** Epoch milliseconds at which the service stops accepting it. */
  expiresAt: number;
}

export interface TokenProviderOptions {
  /** Clock for expiry decisions; epoch milliseconds. */
  now?: () => number;
  /** Sends the token request; defaults to the HttpClient (a caller may wrap it in retries). */
  send?: (request: HttpRequest) => Promise<HttpResponse>;
}

/**
 * Hands out a bearer token, fetching a new one when there is none, when the current one is within
 * its renewal margin of expiring, or after `invalidate()`. The margin is five minutes, or a tenth
 * of the lifetime for short-lived tokens, so a request never leaves with a token about to lapse.
 */
export class TokenProvider {
  readonly #http: HttpClient;
  readonly #credentials: ClientCredentials;
  readonly #now: () => number;
  readonly #send: (request: HttpRequest) => Promise<HttpResponse>;
  #token: AccessToken | undefined;
  #renewAt = 0;
  #inFlight: Promise<AccessToken> | undefined;
  /** Tokens fetched so far. */
  fetched = 0;

  constructor(http: HttpClient, credentials: ClientCredentials, options: TokenProviderOptions = {}) {
    this.#http = http;
    this.#credentials = { ...credentials, authorityUrl: credentials.authorityUrl.replace(/\/+$/, '') };
    this.#now = options.now ?? Date.now;
    this.#send = options.send ?? ((request) => http.send(request));
  }

  get tokenUrl(): string {
    return `${this.#credentials.authorityUrl}/${encodeURIComponent(this.#credentials.tenant)}/oauth2/v2.0/token`;
  }

  /** Secrets a trace or error message must never show. */
  secrets(): string[] {
    return [this.#credentials.clientSecret, ...(this.#token ? [this.#token.value] : [])].filter((s) => s !== '');
  }

  /** A token valid for a while yet. Concurrent callers share one sign-in. */
  async get(signal?: AbortSignal): Promise<string> {
    if (this.#token !== undefined && this.#now() < this.#renewAt) return this.#token.value;
    this.#inFlight ??= this.#fetch(signal).finally(() => {
      this.#inFlight = undefined;
    });
    return (await this.#inFlight).value;
  }

  /** Drops `token` (the service said it expired) so the next `get` signs in again. */
  invalidate(token: string): void {
    if (this.#token?.value === token) {
      this.#token = undefined;
      this.#renewAt = 0;
    }
  }

  async #fetch(signal: AbortSignal | undefined): Promise<AccessToken> {
    const { clientId, clientSecret, scope } = this.#credentials;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope });
    const sentAt = this.#now();
    const response = await this.#send({
      method: 'POST',
      url: this.tokenUrl,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      ...(signal ? { signal } : {}),
    });
    const text = response.body.toString('utf8');
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object') body = parsed as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    if (response.status !== 200) throw this.#signInError(response.status, body, text);
    const value = body?.access_token;
    const expiresIn = parseExpiresIn(body?.expires_in);
    if (typeof value !== 'string' || value === '' || expiresIn === undefined) {
      throw new RemoteError('HTTP_BAD_RESPONSE', `the token endpoint ${new URL(this.tokenUrl).host} answered without access_token and expires_in`, {
        hint: 'check that --authority-url is the sign-in host (https://login.microsoftonline.com or a national cloud)',
      });
    }
    const lifetimeMs = expiresIn * 1000;
    // Timed from when the request left: the service started the lifetime no earlier than that.
    const token = { value, expiresAt: sentAt + lifetimeMs };
    this.#token = token;
    this.#renewAt = sentAt + lifetimeMs - Math.min(5 * 60_000, lifetimeMs / 10);
    this.fetched++;
    return token;
  }

  #signInError(status: number, body: Record<string, unknown> | undefined, text: string): AuthError | RemoteError {
    const { clientId, tenant } = this.#credentials;
    const code = typeof body?.error === 'string' ? body.error : undefined;
    // error_description carries trace and correlation ids on later lines; the first line says it all.
    const description = typeof body?.error_description === 'string' ? body.error_description.split(/\r?\n/)[0]!.trim() : undefined;
    const said = [String(status), code, description ? JSON.stringify(this.#http.redact(description)) : undefined].filter(Boolean).join(' ');
    const what = `signing in to ${new URL(this.tokenUrl).host} as client ${clientId} of tenant ${tenant} failed: ${said || this.#http.redact(text.slice(0, 200))}`;
    if (status >= 500 || (status !== 400 && status !== 401 && status !== 403)) return new RemoteError('HTTP_STATUS', what, { detail: { status, method: 'POST', path: '/oauth2/v2.0/token', ...(code ? { code } : {}) } });
    return new AuthError(what, { hint: signInHint(code, description) });
  }
}

function signInHint(code: string | undefined, description: string | undefined): string {
  const aadsts = /AADSTS(\d+)/.exec(description ?? '')?.[1];
  if (code === 'invalid_client' || aadsts === '7000215') return 'check the client secret (MSTRPUSH_CLIENT_SECRET, --client-secret-file or clientSecretEnv)';
  if (code === 'unauthorized_client' || aadsts === '700016') return 'check the client id (MSTRPUSH_CLIENT_ID) and that the app is registered in this tenant';
  if (code === 'invalid_scope') return 'check --api-url: the token scope is derived from its host (commercial or a national cloud)';
  if (aadsts === '90002' || aadsts === '90013') return 'check the tenant id or domain (MSTRPUSH_TENANT)';
  return 'check the tenant (MSTRPUSH_TENANT), client id (MSTRPUSH_CLIENT_ID) and client secret';
}

/** v2 answers a number, v1 a numeric string (powerbi-push-api.md §1.3): accept both. */
export function parseExpiresIn(value: unknown): number | undefined {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}
