import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import type { ResolveInput, ResolvedSettings } from '../../src/config/resolve.js';
import { describeOrigin, describeSecretSource, flagName, resolveSettings } from '../../src/config/resolve.js';
import type { FileConfig } from '../../src/config/validate.js';

const FILE = '/home/u/project/.mstrpushrc';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

interface PrecedenceRow {
  key: keyof ResolvedSettings;
  flag?: unknown;
  env?: [string, string];
  profile: unknown;
  file: unknown;
  /** Resolved values in the order flag, env, profile, file, default. */
  expected: { flag?: unknown; env?: unknown; profile: unknown; file: unknown; default: unknown };
}

// One row per key: each layer holds a different value, then the layers are peeled off from the top
// so every step proves the next one down wins. Flag and env values are raw text as typed; profile
// and file values are what validateFileConfig hands over (already normalised).
const ROWS: PrecedenceRow[] = [
  {
    key: 'url',
    flag: 'https://flag.example/api',
    env: ['MSTRPUSH_URL', 'https://env.example/api'],
    profile: 'https://profile.example/api',
    file: 'https://file.example/api',
    expected: { flag: 'https://flag.example/api', env: 'https://env.example/api', profile: 'https://profile.example/api', file: 'https://file.example/api', default: undefined },
  },
  {
    key: 'username',
    flag: 'flag-user',
    env: ['MSTRPUSH_USERNAME', 'env-user'],
    profile: 'profile-user',
    file: 'file-user',
    expected: { flag: 'flag-user', env: 'env-user', profile: 'profile-user', file: 'file-user', default: undefined },
  },
  {
    key: 'loginMode',
    flag: 'apiToken',
    env: ['MSTRPUSH_LOGIN_MODE', 'ldap'],
    profile: 4096,
    file: 16,
    expected: { flag: 4096, env: 16, profile: 4096, file: 16, default: 1 },
  },
  {
    key: 'target',
    flag: 'powerbi',
    env: ['MSTRPUSH_TARGET', 'mstr'],
    profile: 'powerbi',
    file: 'mstr',
    expected: { flag: 'powerbi', env: 'mstr', profile: 'powerbi', file: 'mstr', default: 'mstr' },
  },
  {
    key: 'chunkSize',
    flag: '1MB',
    env: ['MSTRPUSH_CHUNK_SIZE', '2MB'],
    profile: 3_000_000,
    file: 4_000_000,
    expected: { flag: 1_000_000, env: 2_000_000, profile: 3_000_000, file: 4_000_000, default: 100_000_000 },
  },
  {
    key: 'timeout',
    flag: '1m',
    env: ['MSTRPUSH_TIMEOUT', '2m'],
    profile: 180_000,
    file: 240_000,
    expected: { flag: 60_000, env: 120_000, profile: 180_000, file: 240_000, default: 1_800_000 },
  },
  {
    key: 'apiUrl',
    flag: 'https://flag.powerbi.example',
    env: ['MSTRPUSH_API_URL', 'https://env.powerbi.example'],
    profile: 'https://profile.powerbi.example',
    file: 'https://file.powerbi.example',
    expected: { flag: 'https://flag.powerbi.example', env: 'https://env.powerbi.example', profile: 'https://profile.powerbi.example', file: 'https://file.powerbi.example', default: undefined },
  },
  {
    key: 'authorityUrl',
    flag: 'https://flag.login.example',
    env: ['MSTRPUSH_AUTHORITY_URL', 'https://env.login.example'],
    profile: 'https://profile.login.example',
    file: 'https://file.login.example',
    expected: { flag: 'https://flag.login.example', env: 'https://env.login.example', profile: 'https://profile.login.example', file: 'https://file.login.example', default: undefined },
  },
  {
    key: 'tenant',
    flag: 'flag.onmicrosoft.com',
    env: ['MSTRPUSH_TENANT', 'env.onmicrosoft.com'],
    profile: 'profile.onmicrosoft.com',
    file: 'file.onmicrosoft.com',
    expected: { flag: 'flag.onmicrosoft.com', env: 'env.onmicrosoft.com', profile: 'profile.onmicrosoft.com', file: 'file.onmicrosoft.com', default: undefined },
  },
  {
    key: 'clientId',
    flag: 'flag-client',
    env: ['MSTRPUSH_CLIENT_ID', 'env-client'],
    profile: 'profile-client',
    file: 'file-client',
    expected: { flag: 'flag-client', env: 'env-client', profile: 'profile-client', file: 'file-client', default: undefined },
  },
  {
    key: 'group',
    flag: 'flag-group',
    env: ['MSTRPUSH_GROUP', 'env-group'],
    profile: 'profile-group',
    file: 'file-group',
    expected: { flag: 'flag-group', env: 'env-group', profile: 'profile-group', file: 'file-group', default: undefined },
  },
  {
    key: 'stateDir',
    flag: '/flag/state',
    env: ['MSTRPUSH_STATE_DIR', '/env/state'],
    profile: '/profile/state',
    file: '/file/state',
    expected: { flag: '/flag/state', env: '/env/state', profile: '/profile/state', file: '/file/state', default: undefined },
  },
  {
    key: 'pollInterval',
    flag: '2s',
    profile: 3000,
    file: 4000,
    expected: { flag: 2000, profile: 3000, file: 4000, default: 1000 },
  },
  {
    key: 'retries',
    flag: '1',
    profile: 2,
    file: 3,
    expected: { flag: 1, profile: 2, file: 3, default: 5 },
  },
  {
    key: 'delimiter',
    flag: 'tab',
    profile: '|',
    file: '\t',
    expected: { flag: '\t', profile: '|', file: '\t', default: undefined },
  },
  {
    key: 'quote',
    flag: '',
    profile: "'",
    file: '"',
    expected: { flag: '', profile: "'", file: '"', default: undefined },
  },
  {
    key: 'nullValues',
    flag: 'NA,',
    profile: ['NULL'],
    file: ['-'],
    expected: { flag: ['NA', ''], profile: ['NULL'], file: ['-'], default: undefined },
  },
  {
    key: 'header',
    flag: false,
    profile: true,
    file: false,
    expected: { flag: false, profile: true, file: false, default: true },
  },
  {
    key: 'caFile',
    flag: '/flag/ca.pem',
    profile: '/profile/ca.pem',
    file: '/file/ca.pem',
    expected: { flag: '/flag/ca.pem', profile: '/profile/ca.pem', file: '/file/ca.pem', default: undefined },
  },
  {
    key: 'insecure',
    flag: true,
    profile: false,
    file: true,
    expected: { flag: true, profile: false, file: true, default: false },
  },
  {
    key: 'allowHttp',
    flag: true,
    profile: false,
    file: true,
    expected: { flag: true, profile: false, file: true, default: false },
  },
];

function inputFor(row: PrecedenceRow, layers: { flag: boolean; env: boolean; profile: boolean; file: boolean }): ResolveInput {
  const file: FileConfig = { profiles: { prod: {} } };
  const fileRecord = file as Record<string, unknown>;
  const profileRecord = file.profiles?.['prod'] as Record<string, unknown>;
  if (layers.file) fileRecord[row.key] = row.file;
  if (layers.profile) profileRecord[row.key] = row.profile;
  return {
    flags: layers.flag && row.flag !== undefined ? { [row.key]: row.flag } : {},
    env: layers.env && row.env !== undefined ? { [row.env[0]]: row.env[1] } : {},
    file,
    filePath: FILE,
    profile: 'prod',
  };
}

describe('resolveSettings precedence', () => {
  it.each(ROWS.map((row) => [row.key, row] as const))('resolves %s as flag > env > profile > file > default', (_key, row) => {
    const all = { flag: true, env: true, profile: true, file: true };
    const steps: [keyof PrecedenceRow['expected'], typeof all][] = [
      ['flag', all],
      ['env', { ...all, flag: false }],
      ['profile', { ...all, flag: false, env: false }],
      ['file', { flag: false, env: false, profile: false, file: true }],
      ['default', { flag: false, env: false, profile: false, file: false }],
    ];
    for (const [layer, present] of steps) {
      if (!(layer in row.expected)) continue;
      const settings = resolveSettings(inputFor(row, present));
      expect({ layer, value: settings[row.key] }).toEqual({ layer, value: row.expected[layer] });
      const origin = settings.origins[row.key as keyof ResolvedSettings['origins']];
      if (layer === 'default' && row.expected.default === undefined) expect(origin).toBeUndefined();
      else expect({ layer, source: origin?.source }).toEqual({ layer, source: layer });
    }
  });

  it('records the flag, variable, profile and file each value came from', () => {
    const settings = resolveSettings({
      flags: { chunkSize: '1MB' },
      env: { MSTRPUSH_URL: 'https://env.example/api' },
      file: { username: 'file-user', profiles: { prod: { retries: 2 } } },
      filePath: FILE,
      profile: 'prod',
    });
    expect(settings.origins).toEqual({
      profile: { source: 'flag', name: '--profile' },
      chunkSize: { source: 'flag', name: '--chunk-size' },
      url: { source: 'env', name: 'MSTRPUSH_URL' },
      retries: { source: 'profile', name: 'prod', file: FILE },
      username: { source: 'file', file: FILE },
      target: { source: 'default' },
      loginMode: { source: 'default' },
      timeout: { source: 'default' },
      pollInterval: { source: 'default' },
      header: { source: 'default' },
      insecure: { source: 'default' },
      allowHttp: { source: 'default' },
    });
    expect(describeOrigin(settings.origins.retries ?? { source: 'default' })).toBe(`profile 'prod' in ${FILE}`);
    expect(describeOrigin(settings.origins.url ?? { source: 'default' })).toBe('environment MSTRPUSH_URL');
    expect(describeOrigin(settings.origins.chunkSize ?? { source: 'default' })).toBe('flag --chunk-size');
  });

  it('uses the documented defaults when nothing is set', () => {
    const settings = resolveSettings({});
    expect(settings).toMatchObject({
      profile: undefined,
      target: 'mstr',
      loginMode: 1,
      chunkSize: 100_000_000,
      timeout: 30 * 60_000,
      pollInterval: 1000,
      retries: 5,
      header: true,
      insecure: false,
      allowHttp: false,
      url: undefined,
      delimiter: undefined,
      passwordSource: { kind: 'prompt' },
      clientSecretSource: { kind: 'none' },
    });
    expect(DEFAULT_SETTINGS.chunkSize).toBe(100_000_000);
  });

  it('treats empty environment variables as unset', () => {
    const settings = resolveSettings({ env: { MSTRPUSH_URL: '', MSTRPUSH_PASSWORD: '' }, file: { url: 'https://file.example/api' } });
    expect(settings.url).toBe('https://file.example/api');
    expect(settings.passwordSource).toEqual({ kind: 'prompt' });
  });

  it('ignores option keys that are not settings, such as a command-line --json', () => {
    const flags: Record<string, unknown> = { json: true, name: 'Sales', url: 'https://flag.example/api' };
    expect(resolveSettings({ flags }).url).toBe('https://flag.example/api');
  });
});

describe('resolveSettings project', () => {
  it('lets the highest layer that names a project decide both the id and the name', () => {
    const settings = resolveSettings({
      flags: { project: 'Sales' },
      file: { projectId: 'B7CA92F04B9FAE8D941C3E9B7E0CD754' },
      filePath: FILE,
    });
    expect(settings).toMatchObject({ project: 'Sales', projectId: undefined });
    expect(settings.origins.project).toEqual({ source: 'flag', name: '--project' });
    expect(settings.origins.projectId).toBeUndefined();
  });

  it('takes the project name from MSTRPUSH_PROJECT and the id from MSTRPUSH_PROJECT_ID', () => {
    expect(resolveSettings({ env: { MSTRPUSH_PROJECT: 'Finance' } })).toMatchObject({ project: 'Finance', projectId: undefined });
    expect(resolveSettings({ env: { MSTRPUSH_PROJECT_ID: 'b7ca92f04b9fae8d941c3e9b7e0cd754' }, file: { project: 'Old' } })).toMatchObject({
      project: undefined,
      projectId: 'b7ca92f04b9fae8d941c3e9b7e0cd754',
    });
  });

  it('keeps both when one layer sets both', () => {
    const settings = resolveSettings({ file: { project: 'Sales', projectId: 'B7CA92F04B9FAE8D941C3E9B7E0CD754' } });
    expect(settings).toMatchObject({ project: 'Sales', projectId: 'B7CA92F04B9FAE8D941C3E9B7E0CD754' });
  });
});

describe('resolveSettings profiles', () => {
  const file: FileConfig = {
    url: 'https://top.example/api',
    defaultProfile: 'dev',
    profiles: { prod: { url: 'https://prod.example/api' }, dev: { url: 'https://dev.example/api' } },
  };

  it('selects the profile named by --profile', () => {
    const settings = resolveSettings({ file, filePath: FILE, profile: 'prod', env: { MSTRPUSH_PROFILE: 'dev' } });
    expect(settings).toMatchObject({ profile: 'prod', url: 'https://prod.example/api' });
    expect(settings.origins.profile).toEqual({ source: 'flag', name: '--profile' });
  });

  it('selects the profile named by flags.profile when no profile is passed separately', () => {
    expect(resolveSettings({ file, flags: { profile: 'prod' } }).profile).toBe('prod');
  });

  it('selects the profile named by MSTRPUSH_PROFILE when there is no flag', () => {
    const settings = resolveSettings({ file, filePath: FILE, env: { MSTRPUSH_PROFILE: 'prod' } });
    expect(settings).toMatchObject({ profile: 'prod', url: 'https://prod.example/api' });
    expect(settings.origins.profile).toEqual({ source: 'env', name: 'MSTRPUSH_PROFILE' });
  });

  it("falls back to the file's defaultProfile", () => {
    const settings = resolveSettings({ file, filePath: FILE });
    expect(settings).toMatchObject({ profile: 'dev', url: 'https://dev.example/api' });
    expect(settings.origins.profile).toEqual({ source: 'file', file: FILE });
  });

  it('uses only the top level when no profile is selected', () => {
    const { defaultProfile: _unused, ...withoutDefault } = file;
    expect(resolveSettings({ file: withoutDefault })).toMatchObject({ profile: undefined, url: 'https://top.example/api' });
  });

  it('fails on an unknown profile and lists the profiles available', () => {
    const error = thrown(() => resolveSettings({ file, filePath: FILE, profile: 'prd' }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 3 });
    expect((error as Error).message).toBe(`profile 'prd' (from --profile) is not defined in ${FILE}; available profiles: prod, dev`);
  });

  it('names MSTRPUSH_PROFILE when that chose the unknown profile', () => {
    const error = thrown(() => resolveSettings({ file, filePath: FILE, env: { MSTRPUSH_PROFILE: 'staging' } }));
    expect((error as Error).message).toContain("profile 'staging' (from MSTRPUSH_PROFILE)");
  });

  it('says no config file was loaded when a profile is asked for without one', () => {
    const error = thrown(() => resolveSettings({ profile: 'prod' }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toContain('no config file was loaded');
  });

  it('does not treat inherited object properties as profiles', () => {
    expect(thrown(() => resolveSettings({ file, profile: 'toString' }))).toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('resolveSettings bad values', () => {
  it('rejects a bad flag value with a usage error naming the flag', () => {
    const error = thrown(() => resolveSettings({ flags: { chunkSize: 'huge' } }));
    expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect((error as Error).message).toMatch(/^--chunk-size: invalid byte size 'huge'/);
  });

  it('rejects a bad environment value with a config error naming the variable', () => {
    const error = thrown(() => resolveSettings({ env: { MSTRPUSH_LOGIN_MODE: 'saml' } }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 3 });
    expect((error as Error).message).toContain('MSTRPUSH_LOGIN_MODE');
    expect((error as Error).message).toContain("got 'saml'");
  });

  it('turns keys into flag names', () => {
    expect(flagName('chunkSize')).toBe('--chunk-size');
    expect(flagName('projectId')).toBe('--project-id');
    expect(flagName('allowHttp')).toBe('--allow-http');
  });
});

describe('resolveSettings passwordSource', () => {
  const env = { MSTRPUSH_PASSWORD: 'from-env', MSTR_PW: 'from-named-var' };

  it('prefers --password-file over everything else', () => {
    const settings = resolveSettings({ flags: { passwordFile: '/secrets/pw' }, env, file: { passwordEnv: 'MSTR_PW' } });
    expect(settings.passwordSource).toEqual({ kind: 'file', path: '/secrets/pw', origin: { source: 'flag', name: '--password-file' } });
  });

  it('then MSTRPUSH_PASSWORD', () => {
    const settings = resolveSettings({ env, file: { passwordEnv: 'MSTR_PW', password: 'literal' } });
    expect(settings.passwordSource).toEqual({ kind: 'env', name: 'MSTRPUSH_PASSWORD', origin: { source: 'env', name: 'MSTRPUSH_PASSWORD' } });
  });

  it('then the variable named by passwordEnv, before passwordFile and password', () => {
    const settings = resolveSettings({
      env: { MSTR_PW: 'x' },
      file: { passwordEnv: 'MSTR_PW', passwordFile: '/p', password: 'literal' },
      filePath: FILE,
    });
    expect(settings.passwordSource).toEqual({ kind: 'env', name: 'MSTR_PW', origin: { source: 'file', file: FILE } });
  });

  it('then passwordFile, before password', () => {
    const settings = resolveSettings({ file: { passwordFile: '/p', password: 'literal' }, filePath: FILE });
    expect(settings.passwordSource).toEqual({ kind: 'file', path: '/p', origin: { source: 'file', file: FILE } });
  });

  it('then a literal password, with the key it came from', () => {
    const settings = resolveSettings({ file: { profiles: { prod: { password: 'literal' } } }, filePath: FILE, profile: 'prod' });
    expect(settings.passwordSource).toEqual({
      kind: 'config',
      file: FILE,
      key: 'profiles.prod.password',
      value: 'literal',
      origin: { source: 'profile', name: 'prod', file: FILE },
    });
    expect(describeSecretSource(settings.passwordSource)).toBe(`profiles.prod.password in ${FILE}`);
  });

  it("takes the profile's way of getting the password as a whole, not key by key", () => {
    const settings = resolveSettings({
      env: { MSTR_PW: 'x' },
      file: { passwordEnv: 'MSTR_PW', profiles: { prod: { passwordFile: '/prod-pw' } } },
      profile: 'prod',
    });
    expect(settings.passwordSource).toMatchObject({ kind: 'file', path: '/prod-pw' });
  });

  it('fails naming the variable when passwordEnv names one that is not set', () => {
    const error = thrown(() => resolveSettings({ env: {}, file: { profiles: { prod: { passwordEnv: 'PROD_PW' } } }, filePath: FILE, profile: 'prod' }));
    expect(error).toMatchObject({ code: 'CONFIG_MISSING', exitCode: 3 });
    expect((error as Error).message).toBe(
      `profiles.prod.passwordEnv in profile 'prod' in ${FILE} names environment variable PROD_PW, but PROD_PW is not set`,
    );
  });

  it('asks for a prompt when nothing is configured, and needs no password for API-token login', () => {
    expect(resolveSettings({}).passwordSource).toEqual({ kind: 'prompt' });
    expect(resolveSettings({ flags: { loginMode: 'apiToken' } }).passwordSource).toEqual({ kind: 'none' });
    expect(resolveSettings({ flags: { target: 'powerbi' } }).passwordSource).toEqual({ kind: 'none' });
  });

  it('never takes a password from a flag value', () => {
    const flags: Record<string, unknown> = { password: 'typed-on-the-command-line' };
    expect(resolveSettings({ flags }).passwordSource).toEqual({ kind: 'prompt' });
  });
});

describe('resolveSettings clientSecretSource', () => {
  it('follows the same order as the password', () => {
    const file: FileConfig = { target: 'powerbi', clientSecretEnv: 'PBI_SECRET', clientSecretFile: '/s', clientSecret: 'lit' };
    expect(resolveSettings({ flags: { clientSecretFile: '/flag-secret' }, env: { MSTRPUSH_CLIENT_SECRET: 'x' }, file }).clientSecretSource).toMatchObject({
      kind: 'file',
      path: '/flag-secret',
    });
    expect(resolveSettings({ env: { MSTRPUSH_CLIENT_SECRET: 'x', PBI_SECRET: 'y' }, file }).clientSecretSource).toMatchObject({
      kind: 'env',
      name: 'MSTRPUSH_CLIENT_SECRET',
    });
    expect(resolveSettings({ env: { PBI_SECRET: 'y' }, file }).clientSecretSource).toMatchObject({ kind: 'env', name: 'PBI_SECRET' });
    const { clientSecretEnv: _e, ...noEnv } = file;
    expect(resolveSettings({ file: noEnv }).clientSecretSource).toMatchObject({ kind: 'file', path: '/s' });
    const { clientSecretFile: _f, ...literalOnly } = noEnv;
    expect(resolveSettings({ file: literalOnly }).clientSecretSource).toMatchObject({ kind: 'config', key: 'clientSecret', value: 'lit' });
  });

  it('asks for a prompt only when the target is Power BI', () => {
    expect(resolveSettings({ env: { MSTRPUSH_TARGET: 'powerbi' } }).clientSecretSource).toEqual({ kind: 'prompt' });
    expect(resolveSettings({}).clientSecretSource).toEqual({ kind: 'none' });
  });

  it('fails naming the variable when clientSecretEnv names one that is empty', () => {
    const error = thrown(() => resolveSettings({ env: { PBI_SECRET: '' }, file: { clientSecretEnv: 'PBI_SECRET' }, filePath: FILE }));
    expect(error).toMatchObject({ code: 'CONFIG_MISSING' });
    expect((error as Error).message).toContain('PBI_SECRET is empty');
  });
});
