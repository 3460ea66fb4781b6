import { describe, expect, it } from '@jest/globals';
import { redactText } from '../../src/http/redact.js';

describe('redactText', () => {
  it('replaces every occurrence of each known secret', () => {
    expect(redactText('pw=hunter22 then hunter22 again; token abcd1234', ['hunter22', 'abcd1234'])).toBe(
      'pw=*** then *** again; token ***',
    );
  });

  it('replaces the URL-encoded form of a secret', () => {
    const secret = 'p@ss w/rd&1';
    expect(redactText(`GET /x?u=a&p=${encodeURIComponent(secret)} and ${secret}`, [secret])).toBe('GET /x?u=a&p=*** and ***');
  });

  it('leaves secrets shorter than four characters and empty ones alone', () => {
    expect(redactText('the cat sat', ['cat', '', 'at'])).toBe('the cat sat');
  });

  it('masks bearer tokens, credential query parameters and JSON password fields without being told the secret', () => {
    expect(redactText('Authorization: Bearer eyJhbGciOi.J9.x-y_z', [])).toBe('Authorization: Bearer ***');
    expect(redactText('/login?user=bob&password=s3cr3t&next=/home', [])).toBe('/login?user=bob&password=***&next=/home');
    expect(redactText('access_token=abc.def token=xyz client_secret=q', [])).toBe('access_token=*** token=*** client_secret=***');
    expect(redactText('{"username":"bob","password":"a\\"b\\\\c","loginMode":1}', [])).toBe(
      '{"username":"bob","password":"***","loginMode":1}',
    );
    expect(redactText('{"clientSecret" : "zz"}', [])).toBe('{"clientSecret" : "***"}');
  });

  it('returns text without secrets unchanged', () => {
    const text = 'POST /api/datasets/models → 400 ERR006 "Invalid JSON"';
    expect(redactText(text, ['not-there'])).toBe(text);
  });
});
