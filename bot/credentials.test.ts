import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAppCredentials } from '../test/github-emulator/index.js';
import { readAppCredentials } from './credentials.js';
import { InvalidSettingsError } from './errors.js';

const { privateKey: PKCS1 } = createAppCredentials();
const BASE = { APP_ID: '424242', WEBHOOK_SECRET: 'a-long-random-secret' };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-bot-credentials-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function refusal(env: Record<string, string>): InvalidSettingsError {
  try {
    readAppCredentials(env, dir);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSettingsError);
    return error as InvalidSettingsError;
  }
  throw new Error('the credentials were accepted');
}

describe('readAppCredentials', () => {
  it('is undefined when the app has no credentials yet: it is to be registered', () => {
    expect(readAppCredentials({ WEBHOOK_SECRET: 'x' }, dir)).toBeUndefined();
  });

  it('accepts the key in every form Probot takes, and hands it on as one PEM block', () => {
    const forms = {
      'the file as it is': PKCS1,
      'newlines as \\n': PKCS1.replace(/\n/g, '\\n'),
      'base64 of the file': Buffer.from(PKCS1).toString('base64'),
      'one line, newlines as spaces': PKCS1.replace(/\n/g, ' '),
    };
    for (const [form, value] of Object.entries(forms)) {
      expect(readAppCredentials({ ...BASE, PRIVATE_KEY: value }, dir), form).toEqual({
        appId: 424242,
        privateKey: PKCS1,
        webhookSecret: 'a-long-random-secret',
      });
    }
  });

  it('reads PRIVATE_KEY_PATH relative to the working directory, and a lone .pem file there', () => {
    writeFileSync(join(dir, 'cairn.2024-12-09.private-key.pem'), PKCS1);
    expect(readAppCredentials(BASE, dir)?.privateKey).toBe(PKCS1);
    expect(
      readAppCredentials({ ...BASE, PRIVATE_KEY_PATH: 'cairn.2024-12-09.private-key.pem' }, dir)?.privateKey,
    ).toBe(PKCS1);
  });

  it('takes a PKCS#8 key too, as the PKCS#1 block GitHub would have given', () => {
    const pkcs8 = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
    const key = readAppCredentials({ ...BASE, PRIVATE_KEY: pkcs8 }, dir)?.privateKey;
    expect(key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
  });

  it('refuses a PRIVATE_KEY that is no key, saying what a key looks like', () => {
    const { message } = refusal({ ...BASE, PRIVATE_KEY: 'garbage' });
    expect(message).toMatch(
      /^PRIVATE_KEY is not a private key: a valid key is the \.pem file GitHub generated/,
    );
    expect(message).toContain('-----BEGIN RSA PRIVATE KEY-----');
  });

  it('refuses a PEM block whose content is damaged', () => {
    const damaged = PKCS1.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!!!!!!!!!!!!!!!!!');
    const { message } = refusal({ ...BASE, PRIVATE_KEY: damaged });
    expect(message).toMatch(
      /^PRIVATE_KEY does not hold a readable private key \(.+\): copy the whole \.pem file again/,
    );
  });

  it('refuses a key that is not RSA', () => {
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
    expect(refusal({ ...BASE, PRIVATE_KEY: ec }).message).toMatch(
      /^PRIVATE_KEY is an EC key, and GitHub App keys are RSA/,
    );
  });

  it('names the key file that is not there, or the several there are', () => {
    expect(refusal({ ...BASE, PRIVATE_KEY_PATH: 'keys/app.pem' }).message).toBe(
      `PRIVATE_KEY_PATH="keys/app.pem": there is no file ${join(dir, 'keys/app.pem')}; set it to the .pem file GitHub generated for the app`,
    );
    writeFileSync(join(dir, 'a.pem'), PKCS1);
    writeFileSync(join(dir, 'b.pem'), PKCS1);
    expect(refusal(BASE).message).toContain('a.pem, b.pem in');
  });

  it('wants APP_ID, a number, beside the key, and WEBHOOK_SECRET', () => {
    expect(refusal({ WEBHOOK_SECRET: 'x', PRIVATE_KEY: PKCS1 }).message).toMatch(
      /^a private key is set \(PRIVATE_KEY\) but APP_ID is not/,
    );
    expect(refusal({ ...BASE, PRIVATE_KEY: PKCS1, APP_ID: 'Iv1.8a61f9b3a7aba766' }).message).toMatch(
      /^APP_ID="Iv1.8a61f9b3a7aba766" is not an app's ID/,
    );
    expect(refusal({ ...BASE, PRIVATE_KEY: '' }).message).toMatch(/^APP_ID is set but no private key is/);
    expect(refusal({ APP_ID: '1', PRIVATE_KEY: PKCS1 }).message).toMatch(/^WEBHOOK_SECRET is not set/);
  });
});
