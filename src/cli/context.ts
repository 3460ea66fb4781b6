// Builds what a command runs with: resolved settings, the reporter, the HTTP client and a
// lazily logged-in MicroStrategy client; and disposes of them in one place.

import { readFile } from 'node:fs/promises';
import { AuthError, ConfigError, InputError, InternalError, UsageError } from '../errors.js';
import { loadConfigFile, readSecretFile, isReadableByOthers } from '../config/load.js';
import { describeOrigin, resolveSettings } from '../config/resolve.js';
import { findSecretKeys } from '../config/validate.js';
import type { ResolvedSettings, SettingFlags } from '../config/resolve.js';
import { HttpClient, proxyFromEnv } from '../http/client.js';
import { DEFAULT_RETRY_POLICY } from '../http/retry.js';
import { redactText } from '../http/redact.js';
import { tableNameOf } from '../pipeline/inputs.js';
import type { InputSpec, NamedSource } from '../pipeline/inputs.js';
import { NO_OVERRIDES, checkColumnsExist, mergeOverrides, overridesForTable, parseRoleOverrides, parseSchemaFile, parseTypeOverrides } from '../schema/overrides.js';
import type { ColumnOverrides } from '../schema/overrides.js';
import type { RoleOverrides } from '../schema/roles.js';
import type { WireType } from '../schema/types.js';
import { DEFAULT_NULL_TOKENS } from '../schema/values.js';
import { openCsvSource } from '../sources/csv.js';
import { excludeColumns } from '../sources/exclude.js';
import { parseDelimiterOption, parseQuoteOption } from '../sources/csv-dialect.js';
import { MstrClient } from '../targets/mstr/client.js';
import type { PowerBiClient } from '../targets/powerbi/client.js';
import type { CliIo } from './io.js';
import type { CommandState } from './main.js';
import { chooseReporterMode, createReporter } from './ui/reporter.js';
import type { Reporter } from './ui/reporter.js';
import { promptHidden } from './prompt.js';

export interface CommandContext {
  io: CliIo;
  signal: AbortSignal;
  state: CommandState;
  /** Only the options the user typed (not commander defaults), so config files are not overruled. */
  explicit: Record<string, unknown>;
  /** The command line as given (after the program name), for "run this again" hints. */
  argv: readonly string[];
}

export interface RunSettings {
  target: 'mstr' | 'powerbi';
  /** Power BI: how much faster the emulator's rate clock runs (1 against the real service). */
  powerBiTimeScale: number;
  batchRows: number | undefined;
  chunkSize: number;
  timeoutMs: number;
  pollIntervalMs: number;
  nullValues: readonly string[];
  delimiter: string | undefined;
  quote: string | null | undefined;
  header: boolean;
  stateDir: string | undefined;
}

export interface Runtime {
  settings: RunSettings;
  reporter: Reporter;
  signal: AbortSignal;
  io: CliIo;
  /** Logs in (once) and selects the project. */
  connect(): Promise<MstrClient>;
  /** Power BI target: gets a token (once) for the app. */
  connectPowerBi(): Promise<PowerBiClient>;
  /** Writes the command's result to stdout, as JSON with --json; returns the exit code. */
  emit(output: { json: object; text: string }): number;
  close(): Promise<void>;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

export async function createRuntime(opts: Record<string, unknown>, ctx: CommandContext, needs: { server: boolean }): Promise<Runtime> {
  const { io, state } = ctx;
  const json = opts.json === true;
  const verbose = opts.verbose === true;
  const mode = chooseReporterMode({
    isTTY: io.stderr.isTTY === true && io.env.TERM !== 'dumb',
    quiet: opts.quiet === true,
    json,
    ci: Boolean(io.env.CI),
    verbose,
  });
  const reporter = await createReporter({ mode, stream: io.stderr });
  let http: HttpClient | undefined;
  let client: MstrClient | undefined;
  let connected = false;
  let powerBi: PowerBiClient | undefined;
  const secrets: string[] = [];
  state.redact = (text) => redactText(text, [...secrets, ...(client?.secrets() ?? []), ...(powerBi?.secrets() ?? [])]);

  const close = async () => {
    try {
      if (client && connected) await client.logout().catch(() => {});
      await http?.close();
    } finally {
      reporter.close();
    }
  };

  try {
    const loaded = await loadConfigFile({
      cwd: io.cwd,
      explicitPath: typeof opts.config === 'string' ? opts.config : undefined,
      disabled: opts.config === false,
    });
    for (const warning of loaded.warnings) reporter.warn(`config: ${warning}`);
    if (loaded.path && findSecretKeys(loaded.file).length > 0 && (await isReadableByOthers(loaded.path).catch(() => false))) {
      reporter.warn(`${loaded.path} holds a secret (${findSecretKeys(loaded.file).join(', ')}) and other users can read it: chmod 600 it, or name an environment variable with passwordEnv`);
    }
    const resolved = resolveSettings({
      flags: ctx.explicit as SettingFlags,
      env: io.env,
      file: loaded.file,
      filePath: loaded.path,
    });
    if (verbose) {
      if (loaded.path) reporter.info(`config file: ${loaded.path}`);
      for (const [key, origin] of Object.entries(resolved.origins)) {
        if (origin && origin.source !== 'default') reporter.info(`setting ${key} from ${describeOrigin(origin)}`);
      }
    }
    const settings = runSettings(resolved, opts, io.env);

    const makeHttp = async (): Promise<HttpClient> => {
      if (resolved.insecure) {
        reporter.warn('TLS certificate checks are OFF (--insecure): anyone on the network path can read the password and the data');
      }
      const extraCa = resolved.caFile ? await readCaFile(resolved.caFile) : undefined;
      return new HttpClient({
        userAgent: 'mstrpush/0.1.0',
        ...(extraCa ? { extraCa } : {}),
        insecure: resolved.insecure,
        proxy: proxyFromEnv(io.env),
        ...(verbose ? { trace: (line: string) => reporter.info(line) } : {}),
        secrets: () => [...secrets, ...(client?.secrets() ?? []), ...(powerBi?.secrets() ?? [])],
      });
    };

    const connect = async (): Promise<MstrClient> => {
      if (client && connected) return client;
      if (resolved.target === 'powerbi') throw new InternalError('connect() called for the Power BI target');
      const { url, username } = checkServerSettings(resolved);
      const password = await readPassword(resolved, io);
      if (password) secrets.push(password);
      http = await makeHttp();
      client = new MstrClient(http, {
        url,
        credentials: { username, password, loginMode: resolved.loginMode },
        ...(resolved.projectId ? { projectId: resolved.projectId } : {}),
        retryPolicy: { ...DEFAULT_RETRY_POLICY, retries: resolved.retries },
        onRetry: (line) => reporter.warn(line),
      });
      reporter.step(`logging in to ${new URL(client.baseUrl).host} as ${username}`);
      await client.login(ctx.signal);
      connected = true;
      if (!client.projectId) client.projectId = await pickProject(client, resolved, ctx.signal);
      reporter.stepDone();
      return client;
    };

    const connectPowerBi = async (): Promise<PowerBiClient> => {
      if (powerBi) return powerBi;
      const clientSecret = await readSecret(resolved.clientSecretSource, io, {
        prompt: `Client secret for ${resolved.clientId ?? 'the app'}: `,
        what: 'client secret',
        envName: 'MSTRPUSH_CLIENT_SECRET',
        flag: '--client-secret-file',
      });
      if (clientSecret) secrets.push(clientSecret);
      http = await makeHttp();
      const { connectPowerBi: connectTo } = await import('../targets/powerbi/client.js');
      powerBi = connectTo({
        http,
        apiUrl: resolved.apiUrl,
        authorityUrl: resolved.authorityUrl,
        tenant: resolved.tenant,
        clientId: resolved.clientId,
        clientSecret,
        group: resolved.group,
        allowHttp: resolved.allowHttp,
        retryPolicy: { ...DEFAULT_RETRY_POLICY, retries: resolved.retries },
        onRetry: (line) => reporter.warn(line),
      });
      reporter.step(`signing in to ${new URL(resolved.authorityUrl ?? 'https://login.microsoftonline.com').host} as app ${resolved.clientId ?? ''}`);
      await powerBi.signIn(ctx.signal);
      reporter.stepDone();
      return powerBi;
    };

    if (needs.server && resolved.target === 'mstr' && !resolved.url) {
      // Checked before any file is read so a missing URL fails at once.
      checkServerSettings(resolved);
    }

    return {
      settings,
      reporter,
      signal: ctx.signal,
      io,
      connect,
      connectPowerBi,
      emit(output) {
        io.stdout.write(json ? `${JSON.stringify(output.json)}\n` : `${output.text}\n`);
        return 0;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function readCaFile(file: string): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return text;
  } catch (error) {
    throw new ConfigError(`cannot use CA file ${file}: ${(error as Error).message}`, { hint: 'give a PEM file with one or more certificates' });
  }
}

function runSettings(resolved: ResolvedSettings, opts: Record<string, unknown>, env: NodeJS.ProcessEnv): RunSettings {
  const timeScale = env.MSTRPUSH_POWERBI_TIME_SCALE ? Number(env.MSTRPUSH_POWERBI_TIME_SCALE) : 1;
  if (!(timeScale >= 1)) throw new ConfigError(`MSTRPUSH_POWERBI_TIME_SCALE must be a number of at least 1, not "${env.MSTRPUSH_POWERBI_TIME_SCALE}"`);
  let batchRows: number | undefined;
  if (opts.batchRows !== undefined) {
    batchRows = Number(opts.batchRows);
    if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > 10_000) {
      throw new UsageError(`--batch-rows ${String(opts.batchRows)}: expected a whole number from 1 to 10000`);
    }
  }
  return {
    target: resolved.target,
    powerBiTimeScale: timeScale,
    batchRows,
    chunkSize: resolved.chunkSize,
    timeoutMs: resolved.timeout,
    pollIntervalMs: resolved.pollInterval,
    nullValues: resolved.nullValues ?? DEFAULT_NULL_TOKENS,
    delimiter: resolved.delimiter === undefined ? undefined : parseDelimiterOption(resolved.delimiter),
    quote: resolved.quote === undefined ? undefined : parseQuoteOption(resolved.quote),
    header: resolved.header,
    stateDir: resolved.stateDir,
  };
}

function checkServerSettings(resolved: ResolvedSettings): { url: string; username: string } {
  if (!resolved.url) {
    throw new ConfigError('no server URL given', {
      code: 'CONFIG_MISSING',
      hint: 'set MSTRPUSH_URL, pass --url, or put url: in .mstrpushrc (e.g. https://bi.example.com/MicroStrategyLibrary/api)',
    });
  }
  const url = new URL(resolved.url);
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname) && !resolved.allowHttp) {
    throw new ConfigError(`refusing to send credentials over plain http to ${url.host}`, {
      hint: 'use https, or set allowHttp: true in the config file if this network is trusted',
    });
  }
  if (!resolved.username) {
    throw new ConfigError('no user name given', { code: 'CONFIG_MISSING', hint: 'set MSTRPUSH_USERNAME, pass --username, or put username: in .mstrpushrc' });
  }
  return { url: resolved.url, username: resolved.username };
}

function readPassword(resolved: ResolvedSettings, io: CliIo): Promise<string> {
  return readSecret(resolved.passwordSource, io, {
    prompt: `Password for ${resolved.username ?? 'user'}: `,
    what: 'password',
    envName: 'MSTRPUSH_PASSWORD',
    flag: '--password-file',
  });
}

async function readSecret(
  source: ResolvedSettings['passwordSource'],
  io: CliIo,
  labels: { prompt: string; what: string; envName: string; flag: string },
): Promise<string> {
  switch (source.kind) {
    case 'env': {
      const value = io.env[source.name];
      if (!value) throw new AuthError(`environment variable ${source.name} is empty`, { code: 'AUTH_MISSING' });
      return value;
    }
    case 'file':
      return readSecretFile(source.path, labels.what);
    case 'config':
      return source.value;
    case 'prompt':
      if (io.stdin.isTTY && io.stderr.isTTY) return promptHidden(labels.prompt, io);
      throw new AuthError(`no ${labels.what} given`, {
        code: 'AUTH_MISSING',
        hint: `set ${labels.envName}, pass ${labels.flag} FILE, or run on a terminal to be asked`,
      });
    case 'none':
      return '';
  }
}

async function pickProject(client: MstrClient, resolved: ResolvedSettings, signal: AbortSignal): Promise<string> {
  const projects = await client.listProjects(signal);
  const names = projects.map((p) => p.name).join(', ') || '(none)';
  if (!resolved.project) {
    throw new ConfigError('no project given', {
      code: 'CONFIG_MISSING',
      hint: `set MSTRPUSH_PROJECT_ID, or pass --project NAME; this server has: ${names}`,
    });
  }
  const wanted = resolved.project;
  const match = projects.find((p) => p.name === wanted) ?? projects.find((p) => p.name.toLowerCase() === wanted.toLowerCase());
  if (!match) throw new ConfigError(`no project named "${wanted}" on this server`, { hint: `its projects: ${names}` });
  return match.id;
}

/**
 * Opens each input as a table source: Parquet by --format or by its .parquet/.pq extension, CSV
 * otherwise; `--exclude` columns are left out of every input that has them.
 */
export async function openInputSources(specs: readonly InputSpec[], runtime: Runtime, opts: Record<string, unknown> = {}): Promise<NamedSource[]> {
  const opened: NamedSource[] = [];
  const exclude = new Set(asList(opts.exclude));
  const seen = new Set<string>();
  try {
    for (const spec of specs) {
      const format = opts.format === 'csv' || opts.format === 'parquet' ? opts.format : /\.(parquet|pq)$/i.test(spec.path) ? 'parquet' : 'csv';
      if (format === 'parquet') {
        // Loaded on demand: CSV runs never pay for the Parquet decoder.
        const { openParquetSource } = await import('../sources/parquet.js');
        const source = await openParquetSource(spec.path, {
          exclude: [...exclude],
          unknownExclude: 'ignore',
          binaryAsString: opts.binaryAsString === true,
          stdin: runtime.io.stdin,
          onWarning: (message) => runtime.reporter.warn(message),
        });
        for (const name of source.fileColumns) seen.add(name);
        opened.push({ table: tableNameOf(spec), source });
        continue;
      }
      const csv = await openCsvSource(spec.path, {
        header: runtime.settings.header,
        ...(runtime.settings.delimiter !== undefined ? { delimiter: runtime.settings.delimiter } : {}),
        ...(runtime.settings.quote !== undefined ? { quote: runtime.settings.quote } : {}),
        stdin: runtime.io.stdin,
      });
      for (const name of csv.columns) seen.add(name);
      opened.push({ table: tableNameOf(spec), source: exclude.size > 0 ? excludeColumns(csv, exclude) : csv });
    }
    const unknown = [...exclude].filter((name) => !seen.has(name));
    if (unknown.length > 0) {
      throw new UsageError(`--exclude ${unknown.map((n) => JSON.stringify(n)).join(', ')}: no input has such a column`, {
        hint: `columns: ${[...seen].join(', ')}`,
      });
    }
    return opened;
  } catch (error) {
    await Promise.allSettled(opened.map((o) => o.source.close()));
    throw error;
  }
}

export interface SchemaOverrides {
  typesFor(table: string): ReadonlyMap<string, WireType>;
  rolesFor(table: string): RoleOverrides;
}

/**
 * `--type`, `--attribute`, `--metric` apply to every table that has the named column, and must
 * match a column in at least one table; `--schema` may also address tables by name.
 */
export async function readSchemaOverrides(opts: Record<string, unknown>, runtime: Runtime, sources: readonly NamedSource[]): Promise<SchemaOverrides> {
  const flagLayer: ColumnOverrides = {
    types: parseTypeOverrides(asList(opts.type)),
    roles: parseRoleOverrides(asList(opts.attribute), asList(opts.metric)),
  };
  let schemaFile: ReturnType<typeof parseSchemaFile> | undefined;
  if (typeof opts.schema === 'string') {
    let text: string;
    try {
      text = await readFile(opts.schema, 'utf8');
    } catch (error) {
      throw new InputError('INPUT_NOT_FOUND', `cannot read the schema file: ${(error as Error).message}`, { location: { file: opts.schema } });
    }
    schemaFile = parseSchemaFile(text, opts.schema);
    for (const table of schemaFile.tables.keys()) {
      if (!sources.some((s) => s.table === table)) {
        throw new UsageError(`${opts.schema} names table "${table}", which no input loads`, { hint: `tables: ${sources.map((s) => s.table).join(', ')}` });
      }
    }
  }
  const allColumns = [...new Set(sources.flatMap((s) => [...s.source.columns]))];
  const named = [...flagLayer.types.keys(), ...flagLayer.roles.keys(), ...(schemaFile ? [...schemaFile.columns.types.keys(), ...schemaFile.columns.roles.keys()] : [])];
  checkColumnsExist(named, allColumns, '--type/--attribute/--metric/--schema');

  const layerFor = (table: string): ColumnOverrides => {
    const source = sources.find((s) => s.table === table);
    const columns = new Set(source?.source.columns ?? []);
    const fileLayer = schemaFile ? mergeOverrides(schemaFile.columns, overridesForTable(schemaFile, table)) : NO_OVERRIDES;
    const merged = mergeOverrides(fileLayer, flagLayer);
    // Options naming a column of another table do not apply here.
    return {
      types: new Map([...merged.types].filter(([name]) => columns.has(name))),
      roles: new Map([...merged.roles].filter(([name]) => columns.has(name))),
    };
  };
  return {
    typesFor: (table) => layerFor(table).types,
    rolesFor: (table) => layerFor(table).roles,
  };
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' ? [value] : [];
}
