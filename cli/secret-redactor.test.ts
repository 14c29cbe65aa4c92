import { describe, expect, it } from 'vitest';
import { REDACTED, SecretRedactor } from './secret-redactor.js';

describe('SecretRedactor', () => {
  it('masks registered secrets as written, JSON-escaped and URL-encoded', () => {
    const redactor = new SecretRedactor();
    const key = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow"IBAAK\n-----END RSA PRIVATE KEY-----\n';
    redactor.add('hook-s3cret');
    redactor.add(key);
    redactor.add('p@ss/word');
    expect(redactor.redact('secret hook-s3cret and hook-s3cret')).toBe(`secret ${REDACTED} and ${REDACTED}`);
    expect(redactor.redact(JSON.stringify({ msg: `key ${key}` }))).toBe(
      JSON.stringify({ msg: `key ${REDACTED}` }),
    );
    expect(redactor.redact('token=p%40ss%2Fword')).toBe(`token=${REDACTED}`);
  });

  it('masks the credentials of every URL, known or not', () => {
    const redactor = new SecretRedactor();
    expect(
      redactor.redact(
        'cannot fetch https://x-access-token:ghp_abc123@github.com/org/config.git: ECONNREFUSED',
      ),
    ).toBe(`cannot fetch https://${REDACTED}@github.com/org/config.git: ECONNREFUSED`);
    expect(redactor.redact('{"url":"http://tok3n@127.0.0.1:9/r.git"}')).toBe(
      `{"url":"http://${REDACTED}@127.0.0.1:9/r.git"}`,
    );
    // An address without credentials, and an e-mail address, are left alone.
    expect(redactor.redact('see https://git.example.com/a@b and ada@example.com')).toBe(
      'see https://git.example.com/a@b and ada@example.com',
    );
  });

  it('leaves values too short to be secrets unmasked', () => {
    const redactor = new SecretRedactor();
    redactor.add('abc');
    redactor.add('');
    redactor.add(undefined);
    expect(redactor.redact('abc def')).toBe('abc def');
  });
});
