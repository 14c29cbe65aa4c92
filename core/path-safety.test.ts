import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isUnsafeByWholeRule,
  isUnsafeTreeEntryName,
  mayHoldUnsafeTreeEntryName,
  unsafePathReason,
  unsafePathReasonByRules,
} from './path-safety.js';

describe('path safety', () => {
  it.each([
    ['app/config.yaml'],
    ['rules/boost.v2.yaml'],
    ['nginx.conf'],
    ['données/été.yaml'],
    ['.hidden/file'],
  ])('accepts %s', (path) => {
    expect(unsafePathReason(path)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['/etc/passwd', 'absolute'],
    ['../secrets.yaml', '".." segments'],
    ['a/./b', '"." segments'],
    ['a//b', 'empty segment'],
    ['a/', 'empty segment'],
    ['a\\b', 'backslash'],
    ['services/api/config/f\ufffd.yml', 'not UTF-8'],
    ['tab\there', 'U+0009'],
    ['bell\u0007', 'U+0007'],
    ['del\u007f', 'U+007F'],
    ['private\ue000use', 'U+E000'],
    ['nul.txt', 'reserved device name'],
    ['dir/COM1', 'reserved device name'],
    ['trailing.', 'ends with a dot'],
    [`${'x'.repeat(256)}`, 'longer than 255 bytes'],
    ['services/api/config/.git/config', "git's own folder name"],
    ['services/api/config/GIT~1/config', "git's own folder name"],
  ])('refuses %j (%s)', (path, reason) => {
    expect(unsafePathReason(path)).toContain(reason);
  });

  it.each([
    ['.', true],
    ['..', true],
    ['win\\path.yaml', true],
    ['.git', true],
    ['.GIT', true],
    ['.git.', true],
    ['.git ', true],
    ['.git::$INDEX_ALLOCATION', true],
    ['.g\u200cit', true],
    ['\ufeff..', true],
    ['git~1', true],
    ['.git~2', true],
    ['...', false],
    ['.gitignore', false],
    ['.github', false],
    ['git~0', false],
    ['\ufffd', true],
    ['r\ufffdgles.yaml', true],
    ['app.yaml', false],
    ['', true],
    ['a/b', true],
    ['/', true],
  ])('tells whether git refuses the tree entry name %j in a checkout: %s', (name, unsafe) => {
    expect(isUnsafeTreeEntryName(name)).toBe(unsafe);
  });

  it('settles a name by its quick scan only where the whole rule agrees', () => {
    const characters = [...'.gGiItT~19: a\\/', '\u200c', '\u202e', '\ufeff', 'é'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...characters), { maxLength: 12 }), (chars) => {
        const name = chars.join('');
        expect(isUnsafeTreeEntryName(name)).toBe(isUnsafeByWholeRule(name));
      }),
      { numRuns: 500 },
    );
  });

  it('clears a whole path by one scan only where no segment of it is unsafe', () => {
    const segments = [
      'a',
      'config',
      '.git',
      '.GIT',
      'git~1',
      'GIT~1',
      '.g\u200cit',
      '.',
      '..',
      'gateway',
      '.hidden',
    ];
    const pieces = [...segments, '', '/', 'x/.', 'x/g', 'é', '\\', '\ufffd', '\u202e', '\ufeff', 'G', '~1'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 8 }), fc.boolean(), (parts, joined) => {
        const path = parts.join(joined ? '/' : '');
        if (!mayHoldUnsafeTreeEntryName(path)) {
          for (const segment of path.split('/')) expect(isUnsafeTreeEntryName(segment), segment).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
    expect(mayHoldUnsafeTreeEntryName('services/api/config/app.yaml')).toBe(false);
    expect(mayHoldUnsafeTreeEntryName('services/api/.git/config')).toBe(true);
    expect(mayHoldUnsafeTreeEntryName('GIT~1/x')).toBe(true);
    expect(mayHoldUnsafeTreeEntryName('a/b\\c')).toBe(true);
    for (const path of ['', '/a', 'a/', 'a//b']) expect(mayHoldUnsafeTreeEntryName(path), path).toBe(true);
  });

  it('settles a path by its quick scan only where the rules agree', () => {
    const segments = [
      'a',
      'config',
      'x.yaml',
      'con',
      'NUL.txt',
      'com1',
      'lpt9.x',
      'git~1',
      '.git',
      'b.',
      '-',
      '_',
    ];
    const pieces = [...segments, '', '.', '..', '/', 'a b', 'é', '\\', '\ufffd', '\u0001', 'x'.repeat(250)];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 8 }), fc.boolean(), (parts, joined) => {
        const path = parts.join(joined ? '/' : '');
        expect(unsafePathReason(path)).toBe(unsafePathReasonByRules(path));
      }),
      { numRuns: 2000 },
    );
    expect(unsafePathReason('services/api/config/app.yaml')).toBeUndefined();
    expect(unsafePathReason('services/con/config/app.yaml')).toMatch(/reserved device name/);
  });
});
