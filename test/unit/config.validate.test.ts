import type { ConfigIssue, FileConfig, ValidationResult } from '../../src/config/validate.js';
import {
  FILE_CONFIG_KEYS,
  SECRET_KEYS,
  checkSetting,
  findSecretKeys,
  parseLoginMode,
  validateFileConfig,
} from '../../src/config/validate.js';

function valid(result: ValidationResult): { config: FileConfig; warnings: string[] } {
  if ('issues' in result) throw new Error(`unexpected issues: ${JSON.stringify(result.issues)}`);
  return result;
}

function issues(result: ValidationResult): ConfigIssue[] {
  if (!('issues' in result)) throw new Error(`expected issues, got ${JSON.stringify(result.config)}`);
  return result.issues;
}

describe('validateFileConfig', () => {
  it('normalises units, login-mode names and the tab delimiter', () => {
    const { config, warnings } = valid(
      validateFileConfig(
        {
          url: 'https://mstr.example.com/MicroStrategyLibrary/api',
          loginMode: 'ldap',
          chunkSize: '50MB',
          timeout: '2h',
          pollInterval: 250,
          retries: 3,
          delimiter: 'tab',
          quote: '',
          nullValues: ['', 'NULL'],
          header: false,
          profiles: { prod: { chunkSize: 1024, loginMode: 'apiToken', timeout: '90s' } },
          defaultProfile: 'prod',
        },
        '/x/.mstrpushrc',
      ),
    );
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      url: 'https://mstr.example.com/MicroStrategyLibrary/api',
      loginMode: 16,
      chunkSize: 50_000_000,
      timeout: 7_200_000,
      pollInterval: 250,
      retries: 3,
      delimiter: '\t',
      quote: '',
      nullValues: ['', 'NULL'],
      header: false,
      profiles: { prod: { chunkSize: 1024, loginMode: 4096, timeout: 90_000 } },
      defaultProfile: 'prod',
    });
  });

  it('treats an empty file (null or undefined) as an empty config', () => {
    expect(valid(validateFileConfig(undefined, 'f')).config).toEqual({});
    expect(valid(validateFileConfig(null, 'f')).config).toEqual({});
  });

  it('reports every issue at once, each with its dotted path', () => {
    const found = issues(
      validateFileConfig(
        {
          url: 'ftp://example.com',
          retries: -1,
          header: 'yes',
          projectId: 'B7CA92F0',
          profiles: {
            prod: { chunkSize: 'lots', loginMode: 'saml', nullValues: [1] },
            dev: 'just-a-string',
          },
        },
        'f',
      ),
    );
    expect(found.map((issue) => issue.path).sort()).toEqual(
      ['header', 'profiles.dev', 'profiles.prod.chunkSize', 'profiles.prod.loginMode', 'profiles.prod.nullValues', 'projectId', 'retries', 'url'].sort(),
    );
    const byPath = new Map(found.map((issue) => [issue.path, issue.message]));
    expect(byPath.get('profiles.prod.chunkSize')).toContain("invalid byte size 'lots'");
    expect(byPath.get('profiles.prod.loginMode')).toContain("got 'saml'");
    expect(byPath.get('url')).toContain("got 'ftp://example.com'");
    expect(byPath.get('retries')).toContain('got -1');
    expect(byPath.get('projectId')).toContain('32 hex digits');
  });

  it('rejects a file that is not a mapping', () => {
    expect(issues(validateFileConfig(['url'], 'f'))).toEqual([{ path: '(top level)', message: expect.stringContaining('got a list') }]);
    expect(issues(validateFileConfig('url: x', 'f'))[0]?.message).toContain("got 'url: x'");
  });

  it('warns about unknown keys and suggests the key that was probably meant', () => {
    const { config, warnings } = valid(
      validateFileConfig({ chunksize: '10MB', chunk_size: 1, pasword: 'x', colour: 'blue', profiles: { prod: { loginmode: 1 } } }, '/x/.mstrpushrc'),
    );
    expect(config).toEqual({ profiles: { prod: {} } });
    expect(warnings).toEqual([
      "/x/.mstrpushrc: unknown key 'chunksize' (did you mean 'chunkSize'?)",
      "/x/.mstrpushrc: unknown key 'chunk_size' (did you mean 'chunkSize'?)",
      "/x/.mstrpushrc: unknown key 'pasword' (did you mean 'password'?)",
      "/x/.mstrpushrc: unknown key 'colour' (ignored)",
      "/x/.mstrpushrc: unknown key 'profiles.prod.loginmode' (did you mean 'loginMode'?)",
    ]);
  });

  it('keeps the warnings alongside the issues when both occur', () => {
    const result = validateFileConfig({ chunksize: 1, retries: 'many' }, 'f');
    expect(result).toEqual({
      issues: [{ path: 'retries', message: expect.stringContaining("got 'many'") }],
      warnings: ["f: unknown key 'chunksize' (did you mean 'chunkSize'?)"],
    });
  });

  it('rejects profiles and defaultProfile inside a profile', () => {
    const found = issues(validateFileConfig({ profiles: { a: { profiles: {}, defaultProfile: 'a' } } }, 'f'));
    expect(found.map((issue) => issue.path)).toEqual(['profiles.a.profiles', 'profiles.a.defaultProfile']);
    expect(found[0]?.message).toBe('is only allowed at the top level');
  });

  it('requires defaultProfile to name a defined profile', () => {
    const unknown = issues(validateFileConfig({ defaultProfile: 'prd', profiles: { prod: {}, dev: {} } }, 'f'));
    expect(unknown).toEqual([{ path: 'defaultProfile', message: expect.stringContaining('defined profiles: prod, dev') }]);
    const none = issues(validateFileConfig({ defaultProfile: 'prod' }, 'f'));
    expect(none[0]?.message).toContain("no 'profiles' section");
  });

  it('reports a key with an empty YAML value instead of ignoring it', () => {
    expect(issues(validateFileConfig({ url: null }, 'f'))).toEqual([{ path: 'url', message: expect.stringContaining('has no value') }]);
  });

  it('never echoes the value of a secret key in an issue', () => {
    const found = issues(validateFileConfig({ password: 123456, profiles: { p: { clientSecret: ['hunter2'] } } }, 'f'));
    expect(found).toEqual([
      { path: 'password', message: 'must be a non-empty string; got a number (quote it in YAML)' },
      { path: 'profiles.p.clientSecret', message: 'must be a non-empty string; got a list' },
    ]);
    expect(JSON.stringify(found)).not.toContain('123456');
    expect(JSON.stringify(found)).not.toContain('hunter2');
  });

  it('keeps a profile named __proto__ as data', () => {
    const raw: unknown = JSON.parse('{"profiles": {"__proto__": {"url": "https://x.example/api"}}}');
    const { config } = valid(validateFileConfig(raw, 'f'));
    expect(Object.keys(config.profiles ?? {})).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(config.profiles)).toBe(Object.prototype);
  });
});

describe('checkSetting', () => {
  it.each([
    ['target', 'powerbi', 'powerbi'],
    ['loginMode', '4096', 4096],
    ['loginMode', 'API_TOKEN', 4096],
    ['chunkSize', '1MiB', 1_048_576],
    ['timeout', '45', 45_000],
    ['retries', '0', 0],
    ['nullValues', ',NULL,NA', ['', 'NULL', 'NA']],
    ['projectId', 'b7ca92f04b9fae8d941c3e9b7e0cd754', 'b7ca92f04b9fae8d941c3e9b7e0cd754'],
    ['passwordEnv', 'MSTR_PASSWORD', 'MSTR_PASSWORD'],
    ['quote', "'", "'"],
  ] as const)('accepts %s = %j as %j', (key, input, expected) => {
    expect(checkSetting(key, input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['target', 'PowerBI'],
    ['loginMode', 8],
    ['retries', 1.5],
    ['passwordEnv', 'MSTR-PASSWORD'],
    ['delimiter', ',,'],
    ['delimiter', ''],
    ['quote', '""'],
    ['username', '   '],
    ['insecure', 'true'],
    ['apiUrl', 'api.powerbi.com'],
  ] as const)('rejects %s = %j', (key, input) => {
    expect(checkSetting(key, input)).toMatchObject({ ok: false, message: expect.any(String) });
  });
});

describe('parseLoginMode', () => {
  it.each([
    [1, 1],
    ['1', 1],
    ['standard', 1],
    ['LDAP', 16],
    [16, 16],
    ['apiToken', 4096],
    ['api-token', 4096],
    [4096, 4096],
    [8, undefined],
    ['saml', undefined],
    [true, undefined],
  ] as const)('maps %j to %j', (input, expected) => {
    expect(parseLoginMode(input)).toBe(expected);
  });
});

describe('findSecretKeys', () => {
  it('lists the dotted path of every literal secret', () => {
    expect(findSecretKeys({ password: 'a', passwordEnv: 'B', profiles: { pbi: { clientSecret: 'c' }, dev: {} } })).toEqual([
      'password',
      'profiles.pbi.clientSecret',
    ]);
    expect(SECRET_KEYS).toEqual(['password', 'clientSecret']);
  });
});

describe('FILE_CONFIG_KEYS', () => {
  it('lists every setting the later targets need, plus profiles and defaultProfile', () => {
    for (const key of ['target', 'apiUrl', 'authorityUrl', 'tenant', 'clientId', 'clientSecretEnv', 'clientSecretFile', 'clientSecret', 'group', 'retries', 'stateDir', 'caFile', 'insecure', 'allowHttp', 'profiles', 'defaultProfile']) {
      expect(FILE_CONFIG_KEYS).toContain(key);
    }
    expect(new Set(FILE_CONFIG_KEYS).size).toBe(FILE_CONFIG_KEYS.length);
    expect(FILE_CONFIG_KEYS).toHaveLength(31);
  });
});
