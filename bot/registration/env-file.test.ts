import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAppCredentials } from '../../test/github-emulator/index.js';
import { updateEnvFile } from './env-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-env-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('updateEnvFile', () => {
  it('writes values that read back exactly, a PEM key included, readable by its owner only', () => {
    const path = join(dir, '.env');
    const { privateKey } = createAppCredentials();
    updateEnvFile(path, {
      APP_ID: '424242',
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: 'f00d',
      ODD: 'a "quoted" \\ value',
    });
    expect(parseEnv(readFileSync(path, 'utf8'))).toEqual({
      APP_ID: '424242',
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: 'f00d',
      ODD: 'a "quoted" \\ value',
    });
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(5);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('replaces what is set already and keeps every other line as it was', () => {
    const path = join(dir, '.env');
    writeFileSync(path, '# Cairn bot\nAPP_ID=1\nPORT=3001 # behind the proxy\nexport LOG_LEVEL=debug\n', {
      mode: 0o644,
    });
    updateEnvFile(path, { APP_ID: '424242', LOG_LEVEL: 'info', WEBHOOK_SECRET: 'f00d' });
    expect(readFileSync(path, 'utf8')).toBe(
      '# Cairn bot\nAPP_ID=424242\nPORT=3001 # behind the proxy\nLOG_LEVEL=info\nWEBHOOK_SECRET=f00d\n',
    );
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
