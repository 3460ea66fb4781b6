import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isReadableByOthers, loadConfigFile, readSecretFile } from '../../src/config/load.js';
import { resolveSettings } from '../../src/config/resolve.js';
import { FILE_CONFIG_KEYS, SECRET_KEYS } from '../../src/config/validate.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(repoRoot, 'fixtures', 'config');
const fixture = (...parts: string[]) => path.join(fixtures, ...parts);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

// The search ends in the user config folder ($XDG_CONFIG_HOME/mstrpush); point it at an empty
// temporary folder so a config on the machine running the tests cannot leak in.
let tmp: string;
let savedXdg: string | undefined;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mstrpush-config-'));
  savedXdg = process.env['XDG_CONFIG_HOME'];
  process.env['XDG_CONFIG_HOME'] = path.join(tmp, 'xdg');
});
afterAll(async () => {
  if (savedXdg === undefined) delete process.env['XDG_CONFIG_HOME'];
  else process.env['XDG_CONFIG_HOME'] = savedXdg;
  await rm(tmp, { recursive: true, force: true });
});

describe('loadConfigFile search', () => {
  it('walks up from a nested folder, past a package.json without an mstrpush key, to .mstrpushrc.json', async () => {
    const loaded = await loadConfigFile({ cwd: fixture('nested', 'project', 'src', 'deep'), stopDir: fixture('nested') });
    expect(loaded).toEqual({
      file: { url: 'http://from-nested-rc-json.example/api' },
      path: fixture('nested', '.mstrpushrc.json'),
      warnings: [],
    });
  });

  it('stops at stopDir', async () => {
    const loaded = await loadConfigFile({ cwd: fixture('nested', 'project', 'src', 'deep'), stopDir: fixture('nested', 'project') });
    expect(loaded).toEqual({ file: {}, warnings: [] });
  });

  it('takes the nearest file, and reads an extensionless .mstrpushrc as YAML', async () => {
    const inner = await loadConfigFile({ cwd: fixture('closest-wins', 'inner'), stopDir: fixture('closest-wins') });
    expect(inner.file.url).toBe('http://from-closest-wins-inner-rc-yaml.example/api');
    const outer = await loadConfigFile({ cwd: fixture('closest-wins'), stopDir: fixture('closest-wins') });
    expect(outer.file.url).toBe('http://from-closest-wins-rc.example/api');
    expect(outer.path).toBe(fixture('closest-wins', '.mstrpushrc'));
  });

  it('reads package.json#mstrpush first within a folder', async () => {
    const loaded = await loadConfigFile({ cwd: fixture('package-json', 'sub'), stopDir: fixture('package-json') });
    expect(loaded).toEqual({
      file: { url: 'http://from-package-json.example/api', chunkSize: 5_000_000 },
      path: fixture('package-json', 'package.json'),
      warnings: [],
    });
  });

  it('prefers .mstrpushrc.json to .mstrpushrc.yaml and mstrpush.config.cjs in the same folder', async () => {
    const loaded = await loadConfigFile({ cwd: fixture('rc-json-before-yaml'), stopDir: fixture('rc-json-before-yaml') });
    expect(loaded.file.url).toBe('http://from-rc-json-before-yaml-rc-json.example/api');
  });

  it('loads mstrpush.config.cjs and mstrpush.config.mjs', async () => {
    const cjs = await loadConfigFile({ cwd: fixture('cjs-config'), stopDir: fixture('cjs-config') });
    expect(cjs.file).toEqual({ url: 'http://from-cjs-config.example/api', retries: 2 });
    const mjs = await loadConfigFile({ cwd: fixture('mjs-config'), stopDir: fixture('mjs-config') });
    expect(mjs.file).toEqual({ url: 'http://from-mjs-config.example/api', timeout: 120_000 });
  });

  it('skips an empty config file while searching', async () => {
    const loaded = await loadConfigFile({ cwd: fixture('empty'), stopDir: fixture('empty') });
    expect(loaded).toEqual({ file: {}, warnings: [] });
  });

  (process.platform === 'linux' ? it : it.skip)('falls back to the user config folder when no folder up to stopDir has one', async () => {
    const start = path.join(tmp, 'work', 'here');
    await mkdir(start, { recursive: true });
    await mkdir(path.join(tmp, 'xdg', 'mstrpush'), { recursive: true });
    const userConfig = path.join(tmp, 'xdg', 'mstrpush', 'config.yaml');
    await writeFile(userConfig, 'url: http://from-user-config-folder.example/api\n');
    try {
      const loaded = await loadConfigFile({ cwd: start, stopDir: path.join(tmp, 'work') });
      expect(loaded).toEqual({ file: { url: 'http://from-user-config-folder.example/api' }, path: userConfig, warnings: [] });
    } finally {
      await rm(userConfig);
    }
  });

  it('reads nothing when disabled, even with an explicit path', async () => {
    const loaded = await loadConfigFile({ cwd: fixture('nested'), disabled: true, explicitPath: 'custom.conf' });
    expect(loaded).toEqual({ file: {}, warnings: [] });
  });
});

describe('loadConfigFile --config', () => {
  it('loads the named file only, resolving it against cwd and reading an unknown extension as YAML', async () => {
    const loaded = await loadConfigFile({ cwd: fixture('explicit'), explicitPath: 'custom.conf' });
    expect(loaded).toEqual({
      file: { url: 'http://from-explicit-custom-conf.example/api', defaultProfile: 'ci', profiles: { ci: { username: 'ci-bot' } } },
      path: fixture('explicit', 'custom.conf'),
      warnings: [],
    });
  });

  it('fails with CONFIG_MISSING naming a file that does not exist', async () => {
    const error = await rejection(loadConfigFile({ cwd: fixture('explicit'), explicitPath: 'nope.yaml' }));
    expect(error).toMatchObject({ code: 'CONFIG_MISSING', exitCode: 3 });
    expect((error as Error).message).toBe(`config file not found: ${fixture('explicit', 'nope.yaml')}`);
  });

  it('fails with CONFIG_MISSING for a package.json without an mstrpush key', async () => {
    const error = await rejection(loadConfigFile({ cwd: fixtures, explicitPath: 'nested/project/package.json' }));
    expect(error).toMatchObject({ code: 'CONFIG_MISSING' });
    expect((error as Error).message).toContain("has no 'mstrpush' section");
  });

  it('returns an empty config with a warning for an empty file', async () => {
    const loaded = await loadConfigFile({ cwd: fixture('empty'), explicitPath: '.mstrpushrc.yaml' });
    expect(loaded).toEqual({ file: {}, path: fixture('empty', '.mstrpushrc.yaml'), warnings: [`${fixture('empty', '.mstrpushrc.yaml')}: the config file is empty`] });
  });
});

describe('loadConfigFile errors', () => {
  it('names the file and gives the JSON parser message for a syntax error found by the search', async () => {
    const file = fixture('syntax-error-json', '.mstrpushrc.json');
    const error = await rejection(loadConfigFile({ cwd: fixture('syntax-error-json'), stopDir: fixture('syntax-error-json') }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 3 });
    const message = (error as Error).message;
    expect(message.startsWith(`cannot parse config file ${file}: `)).toBe(true);
    expect(message).toMatch(/Unexpected token|Unexpected end|Expected/);
    expect(message.split(file)).toHaveLength(2);
  });

  it('names the file and gives the YAML parser message with the line for a syntax error', async () => {
    const file = fixture('syntax-error-yaml', '.mstrpushrc.yaml');
    const error = await rejection(loadConfigFile({ cwd: repoRoot, explicitPath: file }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    const message = (error as Error).message;
    expect(message.startsWith(`cannot parse config file ${file}: `)).toBe(true);
    expect(message).toMatch(/line 5|\(5:/);
  });

  it('lists every validation issue with its dotted path in one error, plus the unknown keys', async () => {
    const file = fixture('invalid', '.mstrpushrc.yaml');
    const error = await rejection(loadConfigFile({ cwd: fixture('invalid'), stopDir: fixture('invalid') }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 3, hint: expect.stringContaining('.mstrpushrc.example') });
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe(`invalid config file ${file}:`);
    expect(lines.slice(1).map((line) => line.trim().split(':')[0])).toEqual([
      'url',
      'retries',
      'profiles.prod.chunkSize',
      'profiles.prod.loginMode',
      'profiles.dev',
      "(also) unknown key 'chunksize' (did you mean 'chunkSize'?)",
    ]);
  });
});

describe('loadConfigFile paths', () => {
  it('resolves paths against the config file folder and ~ against the home folder', async () => {
    const base = fixture('relative-paths');
    const loaded = await loadConfigFile({ cwd: base, stopDir: base });
    expect(loaded.file).toEqual({
      passwordFile: path.join(base, 'secrets', 'password.txt'),
      caFile: path.join(fixtures, 'shared', 'ca.pem'),
      stateDir: path.join(os.homedir(), 'mstrpush-state'),
      profiles: { pbi: { clientSecretFile: path.join(base, 'secrets', 'pbi.txt'), caFile: '/etc/ssl/company.pem' } },
    });
  });
});

describe('.mstrpushrc.example', () => {
  const examplePath = path.join(repoRoot, '.mstrpushrc.example');

  it('loads and validates with no issues and no warnings', async () => {
    const loaded = await loadConfigFile({ cwd: repoRoot, explicitPath: '.mstrpushrc.example' });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.path).toBe(examplePath);
    expect(Object.keys(loaded.file.profiles ?? {})).toEqual(expect.arrayContaining(['prod', 'dev']));
    expect(loaded.file.profiles?.['prod']?.passwordFile).toBeDefined();
    expect(loaded.file.passwordEnv).toBeDefined();
  });

  it('documents every key, leaving the literal secrets commented out', async () => {
    const loaded = await loadConfigFile({ cwd: repoRoot, explicitPath: examplePath });
    const text = await readFile(examplePath, 'utf8');
    const live = new Set<string>(Object.keys(loaded.file));
    for (const profile of Object.values(loaded.file.profiles ?? {})) for (const key of Object.keys(profile)) live.add(key);
    const commented = new Set([...text.matchAll(/^\s*#\s*([A-Za-z]+):/gm)].map((match) => match[1]));
    const missing = FILE_CONFIG_KEYS.filter((key) => !live.has(key) && !commented.has(key));
    expect(missing).toEqual([]);
    for (const secret of SECRET_KEYS) {
      expect(live.has(secret)).toBe(false);
      expect(commented.has(secret)).toBe(true);
    }
  });

  it('resolves for each of its profiles once the variables it names are set', async () => {
    const { file, path: filePath } = await loadConfigFile({ cwd: repoRoot, explicitPath: '.mstrpushrc.example' });
    const env = { MSTR_PASSWORD: 'a', MSTR_DEV_PASSWORD: 'b', PBI_CLIENT_SECRET: 'c' };
    expect(resolveSettings({ file, filePath, env })).toMatchObject({ profile: 'dev', allowHttp: true, chunkSize: 5 * 1024 * 1024 });
    expect(resolveSettings({ file, filePath, env, profile: 'prod' })).toMatchObject({
      loginMode: 16,
      projectId: 'B7CA92F04B9FAE8D941C3E9B7E0CD754',
      project: undefined,
      passwordSource: { kind: 'file' },
    });
    expect(resolveSettings({ file, filePath, env, profile: 'powerbi' })).toMatchObject({
      target: 'powerbi',
      clientSecretSource: { kind: 'env', name: 'PBI_CLIENT_SECRET' },
    });
  });
});

describe('readSecretFile', () => {
  it('drops exactly one trailing newline', async () => {
    const file = path.join(tmp, 'pw-lf');
    await writeFile(file, 's3cret\n\n');
    expect(await readSecretFile(file)).toBe('s3cret\n');
    await writeFile(file, 'p@ss word\r\n');
    expect(await readSecretFile(file)).toBe('p@ss word');
    await writeFile(file, '  spaced  ');
    expect(await readSecretFile(file)).toBe('  spaced  ');
  });

  it('rejects an empty file', async () => {
    const file = path.join(tmp, 'pw-empty');
    await writeFile(file, '\n');
    const error = await rejection(readSecretFile(file, 'password'));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 3 });
    expect((error as Error).message).toBe(`password file ${file} is empty`);
  });

  it('fails with CONFIG_MISSING naming a missing file', async () => {
    const file = path.join(tmp, 'no-such-file');
    const error = await rejection(readSecretFile(file, 'client secret'));
    expect(error).toMatchObject({ code: 'CONFIG_MISSING' });
    expect((error as Error).message).toBe(`client secret file not found: ${file}`);
  });
});

(process.platform === 'win32' ? describe.skip : describe)('isReadableByOthers', () => {
  it.each([
    [0o600, false],
    [0o400, false],
    [0o640, true],
    [0o604, true],
    [0o644, true],
  ])('is %o -> %p', async (mode, expected) => {
    const file = path.join(tmp, `mode-${mode.toString(8)}`);
    await writeFile(file, 'x');
    await chmod(file, mode);
    expect(await isReadableByOthers(file)).toBe(expected);
  });
});
