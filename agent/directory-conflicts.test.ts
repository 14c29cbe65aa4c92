import { describe, expect, it } from 'vitest';
import type { Assignment } from './assignments.js';
import { directoryConflicts } from './directory-conflicts.js';

const at = (key: string, directory: string): Assignment => {
  const [service, env] = key.split('/') as [string, string];
  return { service, env, key, settings: { directory, mode: 0o644, prune: false } };
};
const STATE = '/var/lib/cairn-agent';

describe('directories two services would share on one host', () => {
  it('refuses nothing when every directory is apart, even one whose name starts like another', () => {
    const conflicts = directoryConflicts(
      [at('a/dev', '/etc/app'), at('b/dev', '/etc/app-admin'), at('c/dev', '/srv/c')],
      STATE,
    );
    expect(conflicts).toEqual(new Map());
  });

  it('refuses both sides of the same directory, naming the other and the fix', () => {
    const conflicts = directoryConflicts([at('a/dev', '/etc/app'), at('b/prod', '/etc/app/')], STATE);
    expect([...conflicts.keys()]).toEqual(['a/dev', 'b/prod']);
    expect(conflicts.get('a/dev')).toBe(
      'files.directory /etc/app of a/dev is also /etc/app, the directory of b/prod on this host: give each its own directory in service.yaml (files.directory); until then the agent writes nothing for either, and their files stay as they are',
    );
    expect(conflicts.get('b/prod')).toContain('the directory of a/dev on this host');
  });

  it('refuses both sides of a directory nested in another, and no bystander', () => {
    const conflicts = directoryConflicts(
      [at('nginx/dev', '/etc/nginx'), at('site/dev', '/etc/nginx/conf.d/site'), at('c/dev', '/etc/c')],
      STATE,
    );
    expect([...conflicts.keys()].sort()).toEqual(['nginx/dev', 'site/dev']);
    expect(conflicts.get('nginx/dev')).toContain('/etc/nginx of nginx/dev overlaps /etc/nginx/conf.d/site');
  });

  it('refuses the same service in two environments that both list the host', () => {
    expect([...directoryConflicts([at('a/dev', '/etc/a'), at('a/prod', '/etc/a')], STATE).keys()]).toEqual([
      'a/dev',
      'a/prod',
    ]);
  });

  it('refuses a directory that holds the agent’s own state, or lies inside it', () => {
    const conflicts = directoryConflicts([at('a/dev', '/var/lib'), at('b/dev', `${STATE}/content`)], STATE);
    expect(conflicts.get('a/dev')).toContain("overlaps the agent's state directory /var/lib/cairn-agent");
    expect(conflicts.get('b/dev')).toContain('another --state-dir');
  });
});
