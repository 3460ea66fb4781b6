// Finds and reads the config file (or the one --config names), validates it, and makes its paths
// absolute. Also reads secret files. The only config module that touches the file system.

import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CosmiconfigResult, Loader } from 'cosmiconfig';
import { ConfigError } from '../errors.js';
import type { FileConfig, ProfileConfig } from './validate.js';
import { PATH_KEYS, validateFileConfig } from './validate.js';

const MODULE_NAME = 'mstrpush';

/** Where the search looks in each folder, first match wins. */
export const SEARCH_PLACES: readonly string[] = [
  'package.json',
  '.mstrpushrc',
  '.mstrpushrc.json',
  '.mstrpushrc.yaml',
  '.mstrpushrc.yml',
  'mstrpush.config.js',
  'mstrpush.config.cjs',
  'mstrpush.config.mjs',
];

export interface LoadConfigOptions {
  /** Folder the search starts from; also the base of a relative `explicitPath`. */
  cwd: string;
  /** `--config FILE`: load this file and search nowhere else. Any extension; unknown ones are read as YAML. */
  explicitPath?: string | undefined;
  /** `--no-config`: read nothing. */
  disabled?: boolean | undefined;
  /** Last folder the upward search visits; the user's home directory unless given. */
  stopDir?: string | undefined;
}

export interface LoadedConfig {
  file: FileConfig;
  /** Absent when no file was found or loading was disabled. */
  path?: string;
  warnings: string[];
}

/**
 * Loads the config file. Without `explicitPath` it searches `cwd` and each parent up to `stopDir`
 * (default: home) for the names in SEARCH_PLACES, then the user config folder
 * (`$XDG_CONFIG_HOME/mstrpush/config[.json|.yaml|.yml|.js|.cjs|.mjs]` on Linux). Finding nothing is
 * not an error. Relative paths inside the file (`passwordFile`, `caFile`, ...) are resolved against
 * the file's folder and `~/` against the home directory.
 * @throws ConfigError CONFIG_MISSING when `explicitPath` does not exist; CONFIG_INVALID when the
 * file cannot be parsed or fails validation, listing every issue with its dotted path.
 */
export async function loadConfigFile(options: LoadConfigOptions): Promise<LoadedConfig> {
  if (options.disabled === true) return { file: {}, warnings: [] };
  // Loaded here, not at the top: a run with --no-config does without it.
  const { cosmiconfig, defaultLoaders } = await import('cosmiconfig');
  const explorer = cosmiconfig(MODULE_NAME, {
    searchPlaces: [...SEARCH_PLACES],
    // cosmiconfig 9 only looks in the start folder unless told to walk up.
    searchStrategy: 'global',
    stopDir: options.stopDir ?? os.homedir(),
    cache: false,
    loaders: { default: yamlLoader(defaultLoaders) },
  });

  let result: CosmiconfigResult;
  if (options.explicitPath !== undefined) {
    const explicit = path.resolve(options.cwd, options.explicitPath);
    try {
      result = await explorer.load(explicit);
    } catch (error) {
      throw loadError(error, explicit, true);
    }
    // cosmiconfig answers null both for a package.json without our key and for a file that
    // parses to null (only comments); the first is a wrong --config, the second just empty.
    if (result === null && path.basename(explicit) === 'package.json') {
      throw new ConfigError(`${explicit} has no '${MODULE_NAME}' section`, {
        code: 'CONFIG_MISSING',
        hint: `add a "${MODULE_NAME}" key to it, or point --config at a config file`,
      });
    }
    result ??= { config: undefined, filepath: explicit, isEmpty: true };
  } else {
    try {
      result = await explorer.search(options.cwd);
    } catch (error) {
      throw loadError(error, errorFilePath(error), false);
    }
    if (result === null) return { file: {}, warnings: [] };
  }

  const filePath = result.filepath;
  if (result.isEmpty === true) return { file: {}, path: filePath, warnings: [`${filePath}: the config file is empty`] };

  const checked = validateFileConfig(result.config, filePath);
  if ('issues' in checked) {
    const lines = checked.issues.map((issue) => `  ${issue.path}: ${issue.message}`);
    const prefix = `${filePath}: `;
    const also = checked.warnings.map((warning) => `  (also) ${warning.startsWith(prefix) ? warning.slice(prefix.length) : warning}`);
    throw new ConfigError(`invalid config file ${filePath}:\n${[...lines, ...also].join('\n')}`, {
      hint: 'fix the keys listed above; .mstrpushrc.example documents every key',
    });
  }
  return { file: absolutePaths(checked.config, path.dirname(filePath)), path: filePath, warnings: checked.warnings };
}

function yamlLoader(defaultLoaders: Readonly<Record<string, Loader>>): Loader {
  const loader = defaultLoaders['.yaml'];
  if (loader === undefined) throw new Error('cosmiconfig has no YAML loader');
  return loader;
}

function errorFilePath(error: unknown): string | undefined {
  const filepath = (error as { filepath?: unknown } | null)?.filepath;
  return typeof filepath === 'string' ? filepath : undefined;
}

function loadError(error: unknown, file: string | undefined, explicit: boolean): ConfigError {
  const code = (error as { code?: unknown } | null)?.code;
  const where = file ?? 'config file';
  if (explicit && code === 'ENOENT') {
    return new ConfigError(`config file not found: ${where}`, { code: 'CONFIG_MISSING', cause: error, hint: 'check the path given to --config' });
  }
  if (code === 'EISDIR') return new ConfigError(`config file ${where} is a directory`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') return new ConfigError(`cannot read config file ${where}: permission denied`, { cause: error });
  return new ConfigError(`cannot parse config file ${where}: ${parserMessage(error, file)}`, {
    cause: error,
    hint: 'fix the syntax, or run with --no-config to ignore the file',
  });
}

// cosmiconfig prefixes parser messages with "YAML Error in <file>:\n"; we name the file ourselves.
function parserMessage(error: unknown, file: string | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  const withoutPrefix = file === undefined ? message : message.replace(`${file}:\n`, '').replace(/^(YAML|JSON) Error in /, '');
  return withoutPrefix.trim();
}

function absolutePaths(config: FileConfig, baseDir: string): FileConfig {
  const fixed: FileConfig = withAbsolutePaths(config, baseDir);
  if (config.profiles !== undefined) {
    fixed.profiles = Object.fromEntries(
      Object.entries(config.profiles).map(([name, profile]) => [name, withAbsolutePaths(profile, baseDir)]),
    );
  }
  return fixed;
}

function withAbsolutePaths<T extends ProfileConfig>(settings: T, baseDir: string): T {
  const copy = { ...settings };
  for (const key of PATH_KEYS) {
    const value = copy[key];
    if (value !== undefined) copy[key] = expandPath(value, baseDir);
  }
  return copy;
}

function expandPath(value: string, baseDir: string): string {
  if (value === '~') return os.homedir();
  if (value.startsWith('~/') || value.startsWith(`~${path.sep}`)) return path.join(os.homedir(), value.slice(2));
  return path.resolve(baseDir, value);
}

/**
 * Reads a secret from a file, dropping one trailing newline (what `echo secret > file` leaves).
 * @throws ConfigError CONFIG_MISSING when the file does not exist; CONFIG_INVALID when it cannot be
 * read or holds nothing.
 */
export async function readSecretFile(filePath: string, label = 'secret'): Promise<string> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ENOENT') throw new ConfigError(`${label} file not found: ${filePath}`, { code: 'CONFIG_MISSING', cause: error });
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`cannot read ${label} file ${filePath}: ${reason}`, { cause: error });
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new ConfigError(`${label} file ${filePath} is empty`, { hint: `put the ${label} in it, on one line` });
  return value;
}

/**
 * True when the file's group or others may read it (mode & 0o044). Always false on Windows, where
 * POSIX mode bits say nothing about who can read a file.
 */
export async function isReadableByOthers(filePath: string): Promise<boolean> {
  if (process.platform === 'win32') return false;
  const { mode } = await stat(filePath);
  return (mode & 0o044) !== 0;
}
