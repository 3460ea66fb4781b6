// Merges flags, MSTRPUSH_* environment variables, the selected profile, the config file's top level
// and the defaults into one settings object, remembering where each value came from. Pure: the
// caller passes the environment in, and secrets are resolved to a place to read them, not a value.

import { ConfigError, UsageError } from '../errors.js';
import { DEFAULT_SETTINGS } from './defaults.js';
import type { FileConfig, LoginMode, ProfileConfig, SettingKey, TargetName } from './validate.js';
import { checkSetting } from './validate.js';

/** Keys that name where a secret lives; they feed `passwordSource`/`clientSecretSource`, not a plain setting. */
type SecretRefKey = 'password' | 'passwordEnv' | 'passwordFile' | 'clientSecret' | 'clientSecretEnv' | 'clientSecretFile';

/** Settings that resolve to a plain value. */
export type ResolvedKey = Exclude<SettingKey, SecretRefKey>;

/** Settings a flag may set: everything except literal secrets and the names of secret variables. */
export type FlagKey = Exclude<SettingKey, 'password' | 'passwordEnv' | 'clientSecret' | 'clientSecretEnv'>;

/**
 * Flag values keyed like the config file (`chunkSize` for `--chunk-size`). Values may be raw
 * strings as typed (`'100MB'`, `'ldap'`, `'a,b'`) or already parsed; each is checked like a file
 * value. Leave out, or set to `undefined`, every flag the user did not type: a commander default
 * passed here (for example `header: true` from `--no-header`) would beat the config file.
 * Keys other than these are ignored, so a command's whole options object may be passed.
 */
export type SettingFlags = { readonly [K in FlagKey]?: unknown } & { readonly profile?: unknown };

/** Environment variables read for plain settings. */
export const ENV_VARS = {
  target: 'MSTRPUSH_TARGET',
  url: 'MSTRPUSH_URL',
  username: 'MSTRPUSH_USERNAME',
  projectId: 'MSTRPUSH_PROJECT_ID',
  project: 'MSTRPUSH_PROJECT',
  loginMode: 'MSTRPUSH_LOGIN_MODE',
  chunkSize: 'MSTRPUSH_CHUNK_SIZE',
  timeout: 'MSTRPUSH_TIMEOUT',
  apiUrl: 'MSTRPUSH_API_URL',
  authorityUrl: 'MSTRPUSH_AUTHORITY_URL',
  tenant: 'MSTRPUSH_TENANT',
  clientId: 'MSTRPUSH_CLIENT_ID',
  group: 'MSTRPUSH_GROUP',
  stateDir: 'MSTRPUSH_STATE_DIR',
} as const satisfies Partial<Record<ResolvedKey, string>>;

export const PASSWORD_ENV_VAR = 'MSTRPUSH_PASSWORD';
export const CLIENT_SECRET_ENV_VAR = 'MSTRPUSH_CLIENT_SECRET';
export const PROFILE_ENV_VAR = 'MSTRPUSH_PROFILE';

/** Where one setting's value came from. */
export type SettingOrigin =
  | { source: 'flag'; name: string }
  | { source: 'env'; name: string }
  | { source: 'profile'; name: string; file: string | undefined }
  | { source: 'file'; file: string | undefined }
  | { source: 'default' };

/**
 * Where to get a secret. `env` and `file` say where to read it; `config` carries the literal from
 * the config file (it is already in memory) together with its dotted key; `prompt` means nothing
 * was configured and the target needs one; `none` means the target does not need it.
 */
export type SecretSource =
  | { kind: 'env'; name: string; origin: SettingOrigin }
  | { kind: 'file'; path: string; origin: SettingOrigin }
  | { kind: 'config'; file: string | undefined; key: string; value: string; origin: SettingOrigin }
  | { kind: 'prompt' }
  | { kind: 'none' };

/** The settings a run uses. Keys without a value anywhere are `undefined` and have no origin. */
export interface ResolvedSettings {
  profile: string | undefined;
  target: TargetName;
  url: string | undefined;
  username: string | undefined;
  projectId: string | undefined;
  project: string | undefined;
  loginMode: LoginMode;
  chunkSize: number;
  timeout: number;
  pollInterval: number;
  retries: number;
  delimiter: string | undefined;
  quote: string | undefined;
  nullValues: string[] | undefined;
  header: boolean;
  apiUrl: string | undefined;
  authorityUrl: string | undefined;
  tenant: string | undefined;
  clientId: string | undefined;
  group: string | undefined;
  stateDir: string | undefined;
  caFile: string | undefined;
  insecure: boolean;
  allowHttp: boolean;
  passwordSource: SecretSource;
  clientSecretSource: SecretSource;
  /** For `--verbose`: where each set value came from. */
  origins: { [K in ResolvedKey | 'profile']?: SettingOrigin };
}

export interface ResolveInput {
  flags?: SettingFlags;
  /** The process environment (or a test's stand-in). Empty strings count as unset. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The validated config file, if one was loaded. */
  file?: FileConfig;
  /** Path of that file, used in origins and messages. */
  filePath?: string | undefined;
  /** `--profile`; when absent, `flags.profile`, then MSTRPUSH_PROFILE, then the file's `defaultProfile`. */
  profile?: string | undefined;
}

type LayerKind = 'flag' | 'env' | 'profile' | 'file';

interface Layer {
  kind: LayerKind;
  values: ProfileConfig;
  origin: (key: SettingKey) => SettingOrigin;
}

const RESOLVED_KEYS = [
  'target',
  'url',
  'username',
  'loginMode',
  'chunkSize',
  'timeout',
  'pollInterval',
  'retries',
  'delimiter',
  'quote',
  'nullValues',
  'header',
  'apiUrl',
  'authorityUrl',
  'tenant',
  'clientId',
  'group',
  'stateDir',
  'caFile',
  'insecure',
  'allowHttp',
] as const satisfies readonly Exclude<ResolvedKey, 'projectId' | 'project'>[];

const FLAG_KEYS: readonly FlagKey[] = [...RESOLVED_KEYS, 'projectId', 'project', 'passwordFile', 'clientSecretFile'];

/**
 * Resolves every setting with the precedence flags > environment > selected profile > file top
 * level > defaults. Secrets are resolved to a source only.
 * @throws UsageError for a bad flag value; ConfigError for a bad environment value, an unknown
 * profile, or a `passwordEnv`/`clientSecretEnv` naming a variable that is not set.
 */
export function resolveSettings(input: ResolveInput): ResolvedSettings {
  const env = input.env ?? {};
  const file = input.file ?? {};
  const filePath = input.filePath;
  const origins: ResolvedSettings['origins'] = {};

  const selected = selectProfile(input, env);
  if (selected !== undefined) origins.profile = selected.origin;
  const profileValues = selected === undefined ? {} : findProfile(file, filePath, selected);
  const { profiles: _profiles, defaultProfile: _defaultProfile, ...topLevel } = file;

  const flagValues = readFlags(input.flags ?? {});
  const layers: Layer[] = [
    { kind: 'flag', values: flagValues, origin: (key) => ({ source: 'flag', name: flagName(key) }) },
    { kind: 'env', values: readEnv(env), origin: (key) => ({ source: 'env', name: envName(key) }) },
    {
      kind: 'profile',
      values: profileValues,
      origin: () => ({ source: 'profile', name: selected?.name ?? '', file: filePath }),
    },
    { kind: 'file', values: topLevel, origin: () => ({ source: 'file', file: filePath }) },
  ];

  const pick = <K extends ResolvedKey>(key: K): ProfileConfig[K] | undefined => {
    for (const layer of layers) {
      const value = layer.values[key];
      if (value !== undefined) {
        origins[key] = layer.origin(key);
        return value;
      }
    }
    if (Object.hasOwn(DEFAULT_SETTINGS, key)) origins[key] = { source: 'default' };
    return undefined;
  };

  const target = pick('target') ?? DEFAULT_SETTINGS.target;
  const loginMode = pick('loginMode') ?? DEFAULT_SETTINGS.loginMode;

  // projectId and project name describe one choice, so the highest layer that sets either wins
  // outright: `--project Sales` must not end up paired with a projectId from the file.
  const projectLayer = layers.find((layer) => layer.values.projectId !== undefined || layer.values.project !== undefined);
  const projectId = projectLayer?.values.projectId;
  const project = projectLayer?.values.project;
  if (projectLayer !== undefined && projectId !== undefined) origins.projectId = projectLayer.origin('projectId');
  if (projectLayer !== undefined && project !== undefined) origins.project = projectLayer.origin('project');

  const configLayers = layers.filter((layer) => layer.kind === 'profile' || layer.kind === 'file');

  return {
    profile: selected?.name,
    target,
    url: pick('url'),
    username: pick('username'),
    projectId,
    project,
    loginMode,
    chunkSize: pick('chunkSize') ?? DEFAULT_SETTINGS.chunkSize,
    timeout: pick('timeout') ?? DEFAULT_SETTINGS.timeout,
    pollInterval: pick('pollInterval') ?? DEFAULT_SETTINGS.pollInterval,
    retries: pick('retries') ?? DEFAULT_SETTINGS.retries,
    delimiter: pick('delimiter'),
    quote: pick('quote'),
    nullValues: pick('nullValues'),
    header: pick('header') ?? DEFAULT_SETTINGS.header,
    apiUrl: pick('apiUrl'),
    authorityUrl: pick('authorityUrl'),
    tenant: pick('tenant'),
    clientId: pick('clientId'),
    group: pick('group'),
    stateDir: pick('stateDir'),
    caFile: pick('caFile'),
    insecure: pick('insecure') ?? DEFAULT_SETTINGS.insecure,
    allowHttp: pick('allowHttp') ?? DEFAULT_SETTINGS.allowHttp,
    passwordSource: resolveSecret({
      label: 'password',
      fileFlag: flagValues.passwordFile,
      envVar: PASSWORD_ENV_VAR,
      keys: { env: 'passwordEnv', file: 'passwordFile', literal: 'password' },
      layers: configLayers,
      env,
      profileName: selected?.name,
      // An API-token login sends the token as the username and no password.
      needed: target === 'mstr' && loginMode !== 4096,
    }),
    clientSecretSource: resolveSecret({
      label: 'client secret',
      fileFlag: flagValues.clientSecretFile,
      envVar: CLIENT_SECRET_ENV_VAR,
      keys: { env: 'clientSecretEnv', file: 'clientSecretFile', literal: 'clientSecret' },
      layers: configLayers,
      env,
      profileName: selected?.name,
      needed: target === 'powerbi',
    }),
    origins,
  };
}

interface SelectedProfile {
  name: string;
  origin: SettingOrigin;
  /** How the user chose it, for the error message. */
  via: string;
}

function selectProfile(input: ResolveInput, env: Readonly<Record<string, string | undefined>>): SelectedProfile | undefined {
  const fromFlag = input.profile ?? input.flags?.profile;
  if (fromFlag !== undefined) {
    if (typeof fromFlag !== 'string' || fromFlag === '') throw new UsageError('--profile needs a profile name');
    return { name: fromFlag, origin: { source: 'flag', name: '--profile' }, via: '--profile' };
  }
  const fromEnv = env[PROFILE_ENV_VAR];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { name: fromEnv, origin: { source: 'env', name: PROFILE_ENV_VAR }, via: PROFILE_ENV_VAR };
  }
  const fromFile = input.file?.defaultProfile;
  if (fromFile !== undefined) {
    return { name: fromFile, origin: { source: 'file', file: input.filePath }, via: 'defaultProfile' };
  }
  return undefined;
}

function findProfile(file: FileConfig, filePath: string | undefined, selected: SelectedProfile): ProfileConfig {
  const profiles = file.profiles ?? {};
  if (Object.hasOwn(profiles, selected.name)) return profiles[selected.name] ?? {};
  const names = Object.keys(profiles);
  const where = filePath ?? 'the config file';
  const message =
    filePath === undefined && file.profiles === undefined
      ? `profile '${selected.name}' (from ${selected.via}) is not defined: no config file was loaded`
      : names.length === 0
        ? `profile '${selected.name}' (from ${selected.via}) is not defined: ${where} has no profiles`
        : `profile '${selected.name}' (from ${selected.via}) is not defined in ${where}; available profiles: ${names.join(', ')}`;
  throw new ConfigError(message, { hint: "use one of the profiles listed, or add it under 'profiles:' in the config file" });
}

function readFlags(flags: SettingFlags): ProfileConfig {
  const values: Record<string, unknown> = {};
  for (const key of FLAG_KEYS) {
    const raw = flags[key];
    if (raw === undefined) continue;
    const checked = checkSetting(key, raw);
    if (!checked.ok) throw new UsageError(`${flagName(key)}: ${checked.message}`);
    values[key] = checked.value;
  }
  return values as ProfileConfig;
}

function readEnv(env: Readonly<Record<string, string | undefined>>): ProfileConfig {
  const values: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_VARS) as [keyof typeof ENV_VARS, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const checked = checkSetting(key, raw);
    if (!checked.ok) {
      throw new ConfigError(`environment variable ${name}: ${checked.message}`, { hint: `fix or unset ${name}` });
    }
    values[key] = checked.value;
  }
  return values as ProfileConfig;
}

interface SecretSpec {
  label: string;
  fileFlag: string | undefined;
  envVar: string;
  keys: { env: 'passwordEnv' | 'clientSecretEnv'; file: 'passwordFile' | 'clientSecretFile'; literal: 'password' | 'clientSecret' };
  layers: readonly Layer[];
  env: Readonly<Record<string, string | undefined>>;
  profileName: string | undefined;
  needed: boolean;
}

function resolveSecret(spec: SecretSpec): SecretSource {
  if (spec.fileFlag !== undefined) {
    return { kind: 'file', path: spec.fileFlag, origin: { source: 'flag', name: flagName(spec.keys.file) } };
  }
  const direct = spec.env[spec.envVar];
  if (direct !== undefined && direct !== '') {
    return { kind: 'env', name: spec.envVar, origin: { source: 'env', name: spec.envVar } };
  }
  // The profile's way of getting the secret replaces the top level's as a whole; mixing a
  // top-level passwordEnv with a profile's passwordFile would pick the wrong credentials.
  for (const layer of spec.layers) {
    const { env: envKey, file: fileKey, literal: literalKey } = spec.keys;
    const envName = layer.values[envKey];
    const path = layer.values[fileKey];
    const literal = layer.values[literalKey];
    const keyPath = (key: string) => (layer.kind === 'profile' ? `profiles.${spec.profileName ?? ''}.${key}` : key);
    if (envName !== undefined) {
      const origin = layer.origin(envKey);
      const value = spec.env[envName];
      if (value === undefined || value === '') {
        throw new ConfigError(
          `${keyPath(envKey)} in ${describeOrigin(origin)} names environment variable ${envName}, but ${envName} is ${value === '' ? 'empty' : 'not set'}`,
          { code: 'CONFIG_MISSING', hint: `export ${envName} with the ${spec.label}, or change ${envKey} in the config file` },
        );
      }
      return { kind: 'env', name: envName, origin };
    }
    if (path !== undefined) return { kind: 'file', path, origin: layer.origin(fileKey) };
    if (literal !== undefined) {
      const origin = layer.origin(literalKey);
      const file = origin.source === 'profile' || origin.source === 'file' ? origin.file : undefined;
      return { kind: 'config', file, key: keyPath(literalKey), value: literal, origin };
    }
  }
  return spec.needed ? { kind: 'prompt' } : { kind: 'none' };
}

/** `--chunk-size` for `chunkSize`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

function envName(key: SettingKey): string {
  return (ENV_VARS as Partial<Record<SettingKey, string>>)[key] ?? key;
}

/** One phrase for `--verbose`: `flag --url`, `environment MSTRPUSH_URL`, `profile 'prod' in /x/.mstrpushrc`. */
export function describeOrigin(origin: SettingOrigin): string {
  switch (origin.source) {
    case 'flag':
      return `flag ${origin.name}`;
    case 'env':
      return `environment ${origin.name}`;
    case 'profile':
      return `profile '${origin.name}' in ${origin.file ?? 'the config file'}`;
    case 'file':
      return origin.file ?? 'the config file';
    case 'default':
      return 'default';
  }
}

/** One phrase saying where a secret will be read from, never the secret itself. */
export function describeSecretSource(source: SecretSource): string {
  switch (source.kind) {
    case 'env':
      return `environment variable ${source.name}`;
    case 'file':
      return `file ${source.path} (${describeOrigin(source.origin)})`;
    case 'config':
      return `${source.key} in ${source.file ?? 'the config file'}`;
    case 'prompt':
      return 'interactive prompt';
    case 'none':
      return 'not needed';
  }
}
