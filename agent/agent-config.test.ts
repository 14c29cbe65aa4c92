import { describe, expect, it } from 'vitest';
import { resolveAgentConfig } from './agent-config.js';

describe('the agent’s settings', () => {
  it('come from flags, then environment variables, then defaults', () => {
    const config = resolveAgentConfig(
      { zk: 'zk1:2181', host: 'edge-01' },
      { CAIRN_AGENT_DRIFT: 'report' },
      '/',
    );
    expect(config).toMatchObject({
      host: 'edge-01',
      stateDir: '/var/lib/cairn-agent',
      driftIntervalMs: 60_000,
      driftRepair: false,
      commandTimeoutMs: 30_000,
      applyOwner: true,
    });
    expect(config.endpoint.connectString).toBe('zk1:2181');
    const prefixed = resolveAgentConfig(
      { zk: 'zk1:2181', prefix: 'agents/a1' },
      { CAIRN_AGENT_HOST: 'h' },
      '/work',
    );
    expect(prefixed).toMatchObject({
      prefix: '/work/agents/a1',
      stateDir: '/work/agents/a1/var/lib/cairn-agent',
      applyOwner: false,
      host: 'h',
    });
  });

  it('say which setting is wrong and how to fix it', () => {
    expect(() => resolveAgentConfig({}, {}, '/')).toThrow(/no ZooKeeper: pass --zk/);
    expect(() => resolveAgentConfig({ zk: 'zk:1', drift: 'fix' }, {}, '/')).toThrow(
      /--drift "fix": use repair/,
    );
    expect(() => resolveAgentConfig({ zk: 'zk:1', host: 'a b' }, {}, '/')).toThrow(/--host "a b"/);
    expect(() => resolveAgentConfig({ zk: 'zk:1', commandTimeout: 'soon' }, {}, '/')).toThrow(
      /--command-timeout "soon"/,
    );
  });
});
