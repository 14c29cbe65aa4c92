import { describe, expect, it } from 'vitest';
import { type BannerFacts, formatBanner, nextReleaseTag, shellQuote } from './banner.js';

const facts: BannerFacts = {
  repository: {
    path: '/home/ana/demo/.cairn/repo',
    origin: { kind: 'imported', from: 'example-config-repo' },
    commits: 1,
    lastCommit: 'Import example-config-repo',
  },
  zookeeper: { connectString: '127.0.0.1:41234', dataDir: '.cairn/zookeeper/data' },
  root: '/cairn',
  syncer: { base: 'http://127.0.0.1:45678', webhookSecret: 'f00d' },
  head: { kind: 'mirrored', commit: '3f9c2e1d0b7a4c6e8f1a2b3c4d5e6f708192a3b4' },
  environments: [
    { name: 'dev', tracks: { branch: 'main' } },
    { name: 'staging', tracks: { branch: 'main' } },
    { name: 'prod', tracks: { tag: 'v*' }, nextTag: 'v1.0.0' },
  ],
  example: { service: 'recommender', env: 'dev', file: 'services/recommender/config/application.yaml' },
  cairn: 'npx cairn',
  kept: { what: "the repository and ZooKeeper's data", where: '.cairn' },
  restart: { again: 'npm start', fresh: 'npm start -- --fresh' },
};

describe('the banner of cairn start', () => {
  it('says where everything is, then what to try, one command a line', () => {
    expect(formatBanner(facts)).toBe(
      [
        '',
        'Cairn is running.',
        '',
        '  repository  /home/ana/demo/.cairn/repo',
        '              imported from example-config-repo; 1 commit, the last "Import example-config-repo"',
        '  zookeeper   127.0.0.1:41234, data in .cairn/zookeeper/data',
        '  dashboard   http://127.0.0.1:45678/',
        '  syncer      http://127.0.0.1:45678/healthz and /metrics; webhooks to POST /webhook with secret f00d',
        '  serving     3f9c2e1 in dev and staging; prod follows tags v*: none yet',
        '',
        'Try it in another terminal; each command works as printed:',
        '',
        '  export CAIRN_ZK=127.0.0.1:41234',
        '  cd /home/ana/demo/.cairn/repo',
        '',
        '  Edit a file and commit: the syncer mirrors each commit within 2 s.',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's parameter expansion, printed as it is
        '    ${EDITOR:-vi} services/recommender/config/application.yaml',
        "    git commit -am 'Change recommender'",
        '  See what ZooKeeper serves, and which instances and hosts run which commit.',
        '    npx cairn status',
        '    npx cairn get recommender dev',
        '  Release to prod, which follows v* tags.',
        '    git tag v1.0.0',
        '  Roll the last commit back: a revert is a commit like any other.',
        '    git revert --no-edit HEAD',
        '',
        "Ctrl-C stops Cairn. The repository and ZooKeeper's data stay in .cairn: `npm start`",
        'continues where you left off, `npm start -- --fresh` starts over.',
        '',
      ].join('\n'),
    );
  });

  it('exports the root too when it is not the default, and quotes paths a shell would split', () => {
    const banner = formatBanner({
      ...facts,
      root: '/team a',
      repository: { ...facts.repository, path: '/home/ana/my demo/repo', origin: { kind: 'in-place' } },
    });
    expect(banner).toContain(
      "\n  export CAIRN_ZK=127.0.0.1:41234\n  export CAIRN_ZK_ROOT='/team a'\n  cd '/home/ana/my demo/repo'\n",
    );
    expect(banner).toContain('\n              read in place; 1 commit');
  });

  it('names the agents’ prefixes and the example service, and how to see a commit reach them', () => {
    const banner = formatBanner({
      ...facts,
      agents: {
        env: 'dev',
        prefixes: [
          '.cairn/agents/rec-dev-01.dc1.northwind.internal',
          '.cairn/agents/rec-dev-02.dc1.northwind.internal',
        ],
      },
      exampleOnHost:
        '/home/ana/demo/.cairn/agents/rec-dev-01.dc1.northwind.internal/etc/recommender/application.yaml',
      sdkService: { service: 'recommender', env: 'dev', url: 'http://127.0.0.1:40123' },
    });
    expect(banner).toContain(
      [
        '  serving     3f9c2e1 in dev and staging; prod follows tags v*: none yet',
        '  agents      one per host of dev, each writing under its own prefix (their commands are not run here):',
        '              .cairn/agents/rec-dev-01.dc1.northwind.internal',
        '              .cairn/agents/rec-dev-02.dc1.northwind.internal',
        "  sdk service recommender in dev, the SDK's example: http://127.0.0.1:40123/config",
        '',
      ].join('\n'),
    );
    expect(banner).toContain(
      [
        "    git commit -am 'Change recommender'",
        "  See the commit reach a host's files, and the example service (it says which commit it runs).",
        '    cat /home/ana/demo/.cairn/agents/rec-dev-01.dc1.northwind.internal/etc/recommender/application.yaml',
        '    curl -s http://127.0.0.1:40123/config',
        '  See what ZooKeeper serves, and which instances and hosts run which commit.',
      ].join('\n'),
    );
    // Without them, neither the lines nor the suggestions.
    expect(formatBanner(facts)).not.toMatch(/agents|sdk service|cat |curl/);
  });

  it('says what outlives the start, if anything', () => {
    expect(formatBanner({ ...facts, kept: { what: 'the repository', where: '.cairn' } })).toContain(
      '\nCtrl-C stops Cairn. The repository stays in .cairn: `npm start`\n',
    );
    const { kept: _, ...nothingKept } = facts;
    expect(formatBanner(nothingKept).endsWith('\nCtrl-C stops Cairn.\n')).toBe(true);
  });

  it('says why nothing is served when the first commit was refused', () => {
    const banner = formatBanner({
      ...facts,
      head: { kind: 'refused', commit: 'abcdef0123456789abcdef0123456789abcdef01', reason: '2 errors' },
    });
    expect(banner).toContain(
      '  serving     nothing new: commit abcdef0 was refused (2 errors); fix it and commit again, `cairn validate .` says where',
    );
  });
});

describe('the next release tag', () => {
  it('is 1.0.0 in the pattern, or the next patch free', () => {
    expect(nextReleaseTag('v*', new Set())).toBe('v1.0.0');
    expect(nextReleaseTag('v*', new Set(['v1.0.0', 'v1.0.1']))).toBe('v1.0.2');
    expect(nextReleaseTag('release-*', new Set())).toBe('release-1.0.0');
    expect(nextReleaseTag('v[0-9]*', new Set())).toBeUndefined();
  });
});

describe('shell quoting', () => {
  it('leaves plain words bare and single-quotes the rest', () => {
    expect(shellQuote('/tmp/a-b_c.d')).toBe('/tmp/a-b_c.d');
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('a b')).toBe("'a b'");
  });
});
