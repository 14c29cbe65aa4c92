import { describe, expect, it } from 'vitest';
import { parseConnectString, toClientPath, toServerPath } from './connect-string.js';

describe('connect strings', () => {
  it('reads hosts, ports, IPv6 hosts and a chroot', () => {
    expect(parseConnectString('a:1,b,[::1]:3/cairn/prod')).toEqual({
      servers: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2181 },
        { host: '::1', port: 3 },
      ],
      chroot: '/cairn/prod',
    });
    expect(parseConnectString('127.0.0.1:2181/').chroot).toBe('');
  });

  it('refuses a connect string with no server, a bad port or a bad chroot', () => {
    for (const bad of ['', '/cairn', 'a:0', 'a:x', 'a:1/cairn/', 'a:1//x'])
      expect(() => parseConnectString(bad), bad).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENTS' }));
  });

  it('prefixes and strips the chroot', () => {
    expect(toServerPath('/c', '/')).toBe('/c');
    expect(toServerPath('/c', '/a/b')).toBe('/c/a/b');
    expect(toServerPath('', '/a')).toBe('/a');
    expect(toClientPath('/c', '/c')).toBe('/');
    expect(toClientPath('/c', '/c/a')).toBe('/a');
    expect(toClientPath('/c', '/cd/a')).toBeUndefined();
  });
});
