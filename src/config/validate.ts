// The config file schema and its checker. Takes whatever a config file parsed to and returns either a
// normalised FileConfig (units parsed, login-mode names mapped to numbers) or every problem at once,
// each with a dotted path. Pure: the loader and the resolver both lean on the per-key rules here.

import { isMstrPushError } from '../errors.js';
import { parseByteSize, parseDuration } from '../util/units.js';

/** Which service a run pushes to. */
export type TargetName = 'mstr' | 'powerbi';

/** MicroStrategy `loginMode`: 1 standard, 16 LDAP, 4096 API token (the token goes in `username`). */
export type LoginMode = 1 | 16 | 4096;

/** The names a config file or flag may use instead of the numbers. */
export const LOGIN_MODE_NAMES = { standard: 1, ldap: 16, apiToken: 4096 } as const satisfies Record<string, LoginMode>;

/** Settings a config file may hold at its top level and inside each profile. All optional. */
export interface ProfileConfig {
  target?: TargetName;
  url?: string;
  username?: string;
  /** Name of an environment variable that holds the password. */
  passwordEnv?: string;
  /** Path of a file whose content is the password. */
  passwordFile?: string;
  /** A literal password; allowed but discouraged. */
  password?: string;
  /** 32 hex digits. */
  projectId?: string;
  /** Project name, looked up in the server's project list. */
  project?: string;
  loginMode?: LoginMode;
  /** Bytes. */
  chunkSize?: number;
  /** Milliseconds. */
  timeout?: number;
  /** Milliseconds. */
  pollInterval?: number;
  retries?: number;
  delimiter?: string;
  quote?: string;
  nullValues?: string[];
  header?: boolean;
  apiUrl?: string;
  authorityUrl?: string;
  tenant?: string;
  clientId?: string;
  clientSecretEnv?: string;
  clientSecretFile?: string;
  clientSecret?: string;
  group?: string;
  stateDir?: string;
  caFile?: string;
  insecure?: boolean;
  allowHttp?: boolean;
}

/** A whole config file: top-level settings, named profiles, and which profile applies by default. */
export interface FileConfig extends ProfileConfig {
  profiles?: Record<string, ProfileConfig>;
  defaultProfile?: string;
}

/** One key of ProfileConfig. */
export type SettingKey = keyof ProfileConfig;

/** A problem that makes a config file unusable, at a dotted path such as `profiles.prod.chunkSize`. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Either a usable config plus warnings, or every issue found (warnings are kept so they can be shown too). */
export type ValidationResult = { config: FileConfig; warnings: string[] } | { issues: ConfigIssue[]; warnings: string[] };

/** Outcome of checking one value against its key's rule. */
export type SettingCheck<K extends SettingKey> = { ok: true; value: NonNullable<ProfileConfig[K]> } | { ok: false; message: string };

type Rule<T> = (value: unknown) => { ok: true; value: T } | { ok: false; message: string };

const BYTE_SIZE_HINT = 'a byte size such as 100MB';
const DURATION_HINT = 'milliseconds or a duration such as 90s';

// Mapped over every key so that adding a key to ProfileConfig without a rule fails to compile.
const RULES: { [K in SettingKey]-?: Rule<NonNullable<ProfileConfig[K]>> } = {
  target: oneOf(['mstr', 'powerbi'] as const),
  url: httpUrl('https://mstr.example.com/MicroStrategyLibrary/api'),
  username: nonEmptyString,
  passwordEnv: envVarName,
  passwordFile: nonEmptyString,
  password: secretString,
  projectId: (value) =>
    typeof value === 'string' && /^[0-9a-f]{32}$/i.test(value)
      ? { ok: true, value }
      : { ok: false, message: `must be a project id of 32 hex digits; got ${describe(value)}` },
  project: nonEmptyString,
  loginMode: (value) => {
    const mode = parseLoginMode(value);
    return mode === undefined
      ? { ok: false, message: `must be 1 (standard), 16 (ldap) or 4096 (apiToken); got ${describe(value)}` }
      : { ok: true, value: mode };
  },
  chunkSize: viaUnitParser(parseByteSize, BYTE_SIZE_HINT),
  timeout: viaUnitParser(parseDuration, DURATION_HINT),
  pollInterval: viaUnitParser(parseDuration, DURATION_HINT),
  retries: (value) => {
    const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
      ? { ok: true, value: n }
      : { ok: false, message: `must be a whole number, 0 or more; got ${describe(value)}` };
  },
  delimiter: (value) => {
    if (typeof value === 'string' && value.toLowerCase() === 'tab') return { ok: true, value: '\t' };
    return typeof value === 'string' && [...value].length === 1
      ? { ok: true, value }
      : { ok: false, message: `must be a single character or 'tab'; got ${describe(value)}` };
  },
  // An empty quote turns quoting off, so unlike the delimiter it may be ''.
  quote: (value) =>
    typeof value === 'string' && [...value].length <= 1
      ? { ok: true, value }
      : { ok: false, message: `must be a single character, or '' for no quoting; got ${describe(value)}` },
  // A list in a file; the comma-separated form is what --null-values passes.
  nullValues: (value) => {
    if (typeof value === 'string') return { ok: true, value: value.split(',') };
    return Array.isArray(value) && value.every((item): item is string => typeof item === 'string')
      ? { ok: true, value: [...value] }
      : { ok: false, message: `must be a list of strings; got ${describe(value)}` };
  },
  header: boolean,
  apiUrl: httpUrl('https://api.powerbi.com'),
  authorityUrl: httpUrl('https://login.microsoftonline.com'),
  tenant: nonEmptyString,
  clientId: nonEmptyString,
  clientSecretEnv: envVarName,
  clientSecretFile: nonEmptyString,
  clientSecret: secretString,
  group: nonEmptyString,
  stateDir: nonEmptyString,
  caFile: nonEmptyString,
  insecure: boolean,
  allowHttp: boolean,
};

/** Every key a profile (or the top level) may hold, in the order the example file documents them. */
export const SETTING_KEYS = Object.keys(RULES) as readonly SettingKey[];

/** Every key a config file may hold at its top level. */
export const FILE_CONFIG_KEYS: readonly (keyof FileConfig)[] = [...SETTING_KEYS, 'profiles', 'defaultProfile'];

/** Keys whose value is a secret itself; the CLI warns when a file holding one is readable by others. */
export const SECRET_KEYS = ['password', 'clientSecret'] as const satisfies readonly SettingKey[];

/** Keys that hold file system paths; the loader resolves them against the config file's folder. */
export const PATH_KEYS = ['passwordFile', 'clientSecretFile', 'stateDir', 'caFile'] as const satisfies readonly SettingKey[];

/**
 * Checks a config file's parsed content. Unknown keys are warnings (with a suggestion when one is
 * close); wrong types and bad values are issues, all reported together. `null`/`undefined` (an
 * empty file) is an empty config. `source` names the file in warnings.
 */
export function validateFileConfig(raw: unknown, source: string): ValidationResult {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  if (raw === undefined || raw === null) return { config: {}, warnings };
  if (!isPlainObject(raw)) {
    return { issues: [{ path: '(top level)', message: `must be a mapping of keys to values; got ${describe(raw)}` }], warnings };
  }

  const config: FileConfig = {};
  const unknownKeys: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (isSettingKey(key)) {
      checkInto(config, key, value, key, issues);
    } else if (key === 'defaultProfile') {
      const checked = nonEmptyString(value);
      if (checked.ok) config.defaultProfile = checked.value;
      else issues.push({ path: key, message: checked.message });
    } else if (key === 'profiles') {
      const profiles = checkProfiles(value, issues, unknownKeys);
      if (profiles !== undefined) config.profiles = profiles;
    } else {
      unknownKeys.push(key);
    }
  }

  if (config.defaultProfile !== undefined && isPlainObject(raw['profiles'])) {
    const names = Object.keys(raw['profiles']);
    if (!names.includes(config.defaultProfile)) {
      const available = names.length === 0 ? 'no profiles are defined' : `defined profiles: ${names.join(', ')}`;
      issues.push({ path: 'defaultProfile', message: `names profile '${config.defaultProfile}', which is not defined (${available})` });
    }
  } else if (config.defaultProfile !== undefined && raw['profiles'] === undefined) {
    issues.push({ path: 'defaultProfile', message: `names profile '${config.defaultProfile}', but the file has no 'profiles' section` });
  }

  for (const path of unknownKeys) warnings.push(`${source}: ${unknownKeyWarning(path)}`);
  return issues.length > 0 ? { issues, warnings } : { config, warnings };
}

function checkProfiles(value: unknown, issues: ConfigIssue[], unknownKeys: string[]): Record<string, ProfileConfig> | undefined {
  if (!isPlainObject(value)) {
    issues.push({ path: 'profiles', message: `must be a mapping of profile names to settings; got ${describe(value)}` });
    return undefined;
  }
  const entries: [string, ProfileConfig][] = [];
  for (const [name, body] of Object.entries(value)) {
    const base = `profiles.${name}`;
    if (!isPlainObject(body)) {
      issues.push({ path: base, message: `must be a mapping of settings; got ${describe(body)}` });
      continue;
    }
    const profile: ProfileConfig = {};
    for (const [key, setting] of Object.entries(body)) {
      const path = `${base}.${key}`;
      if (isSettingKey(key)) checkInto(profile, key, setting, path, issues);
      else if (key === 'profiles' || key === 'defaultProfile') issues.push({ path, message: 'is only allowed at the top level' });
      else unknownKeys.push(path);
    }
    entries.push([name, profile]);
  }
  // fromEntries defines own properties, so a profile named "__proto__" cannot touch the prototype.
  return Object.fromEntries(entries);
}

function checkInto(target: ProfileConfig, key: SettingKey, value: unknown, path: string, issues: ConfigIssue[]): void {
  const checked = checkSetting(key, value);
  if (checked.ok) (target as Record<string, unknown>)[key] = checked.value;
  else issues.push({ path, message: checked.message });
}

/**
 * Checks and normalises one setting value, whatever it came from (file, flag or environment
 * string): `'100MB'` becomes 100000000, `'ldap'` becomes 16, `'90s'` becomes 90000. Messages never
 * echo the value of a secret key.
 */
export function checkSetting<K extends SettingKey>(key: K, value: unknown): SettingCheck<K> {
  if (value === null) return { ok: false, message: 'has no value; give it one or remove the key' };
  return (RULES[key] as Rule<NonNullable<ProfileConfig[K]>>)(value);
}

/** True when `key` is a setting a profile may hold. */
export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(RULES, key);
}

/**
 * Maps `1`, `16`, `4096`, their string forms, or the names `standard`, `ldap`, `apiToken`
 * (any case, `-`/`_` ignored) to a login mode; anything else gives `undefined`.
 */
export function parseLoginMode(value: unknown): LoginMode | undefined {
  const numeric = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (numeric === 1 || numeric === 16 || numeric === 4096) return numeric;
  if (typeof value !== 'string') return undefined;
  const name = value.trim().toLowerCase().replace(/[-_\s]/g, '');
  for (const [known, mode] of Object.entries(LOGIN_MODE_NAMES)) {
    if (known.toLowerCase() === name) return mode;
  }
  return undefined;
}

/** Dotted paths of every literal secret in a config (`password`, `profiles.prod.clientSecret`). */
export function findSecretKeys(config: FileConfig): string[] {
  const found: string[] = [];
  for (const key of SECRET_KEYS) if (config[key] !== undefined) found.push(key);
  for (const [name, profile] of Object.entries(config.profiles ?? {})) {
    for (const key of SECRET_KEYS) if (profile[key] !== undefined) found.push(`profiles.${name}.${key}`);
  }
  return found;
}

function unknownKeyWarning(path: string): string {
  const key = path.slice(path.lastIndexOf('.') + 1);
  const atTop = !path.includes('.');
  const candidates: readonly string[] = atTop ? FILE_CONFIG_KEYS : SETTING_KEYS;
  const suggestion = suggestKey(key, candidates);
  return suggestion === undefined
    ? `unknown key '${path}' (ignored)`
    : `unknown key '${path}' (did you mean '${suggestion}'?)`;
}

function suggestKey(key: string, candidates: readonly string[]): string | undefined {
  const folded = fold(key);
  const exact = candidates.find((candidate) => fold(candidate) === folded);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(2, Math.floor(folded.length / 4)));
  for (const candidate of candidates) {
    const distance = editDistance(folded, fold(candidate));
    if (distance <= bestDistance) {
      best = candidate;
      bestDistance = distance - 1;
    }
  }
  return best;
}

// chunk_size, chunk-size and CHUNKSIZE all fold to the same spelling as chunkSize.
function fold(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function oneOf<const T extends string>(allowed: readonly T[]): Rule<T> {
  return (value) =>
    typeof value === 'string' && (allowed as readonly string[]).includes(value)
      ? { ok: true, value: value as T }
      : { ok: false, message: `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${describe(value)}` };
}

function nonEmptyString(value: unknown): { ok: true; value: string } | { ok: false; message: string } {
  if (typeof value === 'string' && value.trim() !== '') return { ok: true, value };
  const quoteHint = typeof value === 'number' || typeof value === 'boolean' ? ' (quote it in YAML)' : '';
  return { ok: false, message: `must be a non-empty string; got ${describe(value)}${quoteHint}` };
}

// Same as nonEmptyString but the message names only the type, so a typo'd password never reaches a log.
function secretString(value: unknown): { ok: true; value: string } | { ok: false; message: string } {
  if (typeof value === 'string' && value !== '') return { ok: true, value };
  const quoteHint = typeof value === 'number' || typeof value === 'boolean' ? ' (quote it in YAML)' : '';
  const got = typeof value === 'string' ? 'an empty string' : typeName(value);
  return { ok: false, message: `must be a non-empty string; got ${got}${quoteHint}` };
}

function envVarName(value: unknown): { ok: true; value: string } | { ok: false; message: string } {
  return typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(value)
    ? { ok: true, value }
    : { ok: false, message: `must be the name of an environment variable, such as MSTR_PASSWORD; got ${describe(value)}` };
}

function httpUrl(example: string): Rule<string> {
  return (value) => {
    if (typeof value === 'string') {
      try {
        const url = new URL(value);
        if ((url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '') return { ok: true, value };
      } catch {
        // not a URL at all: same message as a URL of the wrong scheme
      }
    }
    return { ok: false, message: `must be an http(s) URL such as ${example}; got ${describe(value)}` };
  };
}

function boolean(value: unknown): { ok: true; value: boolean } | { ok: false; message: string } {
  return typeof value === 'boolean' ? { ok: true, value } : { ok: false, message: `must be true or false; got ${describe(value)}` };
}

function viaUnitParser(parse: (input: string | number) => number, expected: string): Rule<number> {
  return (value) => {
    if (typeof value !== 'string' && typeof value !== 'number') {
      return { ok: false, message: `must be ${expected}; got ${describe(value)}` };
    }
    try {
      return { ok: true, value: parse(value) };
    } catch (error) {
      if (isMstrPushError(error)) return { ok: false, message: error.message };
      throw error;
    }
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeName(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}
