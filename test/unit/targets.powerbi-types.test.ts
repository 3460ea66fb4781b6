import { describe, expect, it } from '@jest/globals';
import { parseExpiresIn, scopeForApiUrl } from '../../src/targets/powerbi/auth.js';
import { normalizeApiUrl, retryAfterMs } from '../../src/targets/powerbi/client.js';
import { columnNameProblem, parsePowerBiDataType, parseRetention, retentionQueryValue, tableNameProblem, wireTypeOf } from '../../src/targets/powerbi/types.js';

describe('parsePowerBiDataType', () => {
  it.each([
    ['int64', 'Int64'],
    ['DATETIME', 'DateTime'],
    ['Datetime', 'DateTime'],
    ['bool', 'Boolean'],
    ['boolean', 'Boolean'],
    ['decimal', 'Decimal'],
  ])('reads %s as %s', (text, type) => {
    expect(parsePowerBiDataType(text)).toBe(type);
  });

  it('does not guess at other aliases', () => {
    expect(parsePowerBiDataType('int')).toBeUndefined();
    expect(parsePowerBiDataType('Date')).toBeUndefined();
  });

  it('maps each Power BI type to the type its values are checked as', () => {
    expect(['Int64', 'Double', 'Decimal', 'Boolean', 'DateTime', 'String'].map((t) => wireTypeOf(t as never))).toEqual([
      'BIGINTEGER',
      'DOUBLE',
      'BIGDECIMAL',
      'BOOL',
      'DATETIME',
      'STRING',
    ]);
  });
});

describe('retention', () => {
  it('reads the query spelling in any case and writes it the documented way', () => {
    expect(parseRetention('basicFifo')).toBe('basicFIFO');
    expect(parseRetention('NONE')).toBe('none');
    expect(parseRetention('fifo')).toBeUndefined();
    expect(retentionQueryValue('none')).toBe('None');
    expect(retentionQueryValue('basicFIFO')).toBe('basicFIFO');
  });
});

describe('tableNameProblem', () => {
  it.each(['Sales', 'sales 2024', 'a#b-c@d^e_f~g', 'Verkäufe', '売上', 'x'.repeat(100)])('accepts %j', (name) => {
    expect(tableNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', 'it is empty'],
    ['x'.repeat(101), 'it is longer than 100 characters'],
    ['a.b', 'it contains ".", which Power BI table names may not'],
    ['a/b(c)', 'it contains "/" "(" ")", which Power BI table names may not'],
  ])('refuses %j: %s', (name, problem) => {
    expect(tableNameProblem(name)).toBe(problem);
  });
});

describe('columnNameProblem', () => {
  it('accepts punctuation such as a slash, which tables may not have', () => {
    expect(columnNameProblem('Ethernet bytes received/sec')).toBeUndefined();
  });

  it('refuses control characters other than tab, CR and LF', () => {
    expect(columnNameProblem('a\u0001b')).toBe('it contains the control character U+0001');
    expect(columnNameProblem('a\tb')).toBeUndefined();
  });
});

describe('scopeForApiUrl', () => {
  it.each([
    ['https://api.powerbi.com/v1.0/myorg', 'https://analysis.windows.net/powerbi/api/.default'],
    ['https://api.powerbigov.us/v1.0/myorg', 'https://analysis.usgovcloudapi.net/powerbi/api/.default'],
    ['https://api.high.powerbigov.us', 'https://high.analysis.usgovcloudapi.net/powerbi/api/.default'],
    ['https://api.mil.powerbigov.us', 'https://mil.analysis.usgovcloudapi.net/powerbi/api/.default'],
    ['https://api.powerbi.cn/v1.0/myorg', 'https://analysis.chinacloudapi.cn/powerbi/api/.default'],
    ['http://127.0.0.1:8080/v1.0/myorg', 'https://analysis.windows.net/powerbi/api/.default'],
  ])('asks for the scope of the cloud of %s', (url, scope) => {
    expect(scopeForApiUrl(url)).toBe(scope);
  });
});

describe('parseExpiresIn', () => {
  it('reads the v2 number and the v1 string', () => {
    expect(parseExpiresIn(3599)).toBe(3599);
    expect(parseExpiresIn('3599')).toBe(3599);
    expect(parseExpiresIn('soon')).toBeUndefined();
    expect(parseExpiresIn(0)).toBeUndefined();
  });
});

describe('normalizeApiUrl', () => {
  it('adds /v1.0/myorg to a bare host and keeps a given path', () => {
    expect(normalizeApiUrl('https://api.powerbi.com')).toBe('https://api.powerbi.com/v1.0/myorg');
    expect(normalizeApiUrl('https://api.powerbi.com/v1.0/myorg/')).toBe('https://api.powerbi.com/v1.0/myorg');
    expect(normalizeApiUrl('http://127.0.0.1:9000/proxy/v1.0/myorg')).toBe('http://127.0.0.1:9000/proxy/v1.0/myorg');
  });
});

describe('retryAfterMs', () => {
  it('reads seconds, an HTTP date, and falls back to a minute', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs({ headers: { 'retry-after': '7' } }, now)).toBe(7000);
    expect(retryAfterMs({ headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' } }, now)).toBe(30_000);
    expect(retryAfterMs({ headers: {} }, now)).toBe(60_000);
  });
});
