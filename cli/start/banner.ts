/** What `cairn start` knows once it is ready, to tell the person who started it. */
export interface BannerFacts {
  readonly repository: {
    readonly path: string;
    /** How it came to be: imported now, continued from an earlier start, or read in place. */
    readonly origin:
      | { readonly kind: 'imported'; readonly from: string }
      | { readonly kind: 'continued'; readonly from: string }
      | { readonly kind: 'in-place' };
    readonly commits: number;
    readonly lastCommit: string;
  };
  readonly zookeeper: { readonly connectString: string; readonly dataDir?: string };
  /** The root znode; exported too when it is not the default. */
  readonly root: string;
  readonly syncer: { readonly base: string; readonly webhookSecret: string };
  readonly head:
    | { readonly kind: 'mirrored'; readonly commit: string }
    | { readonly kind: 'refused'; readonly commit: string; readonly reason: string };
  readonly environments: readonly BannerEnvironment[];
  /** What to show in the suggestions; a repository without services gets fewer. */
  readonly example?: { readonly service: string; readonly env: string; readonly file?: string };
  /** The agents playing the hosts of an environment, each under its own prefix (shown as given). */
  readonly agents?: { readonly env: string; readonly prefixes: readonly string[] };
  /** The agent's copy of the example file: an absolute path, to `cat` from anywhere. */
  readonly exampleOnHost?: string;
  /** The SDK's example service: which service and environment it is an instance of, and its URL. */
  readonly sdkService?: { readonly service: string; readonly env: string; readonly url: string };
  /** How to run cairn from the repository, e.g. `npx cairn`. */
  readonly cairn: string;
  /** What outlives this start ("the repository and ZooKeeper's data"), and where (`.cairn`). */
  readonly kept?: { readonly what: string; readonly where: string };
  /** How to start again, and how to start over: `npm start` and `npm start -- --fresh`, say. */
  readonly restart: { readonly again: string; readonly fresh: string };
}

export interface BannerEnvironment {
  readonly name: string;
  readonly tracks: { readonly branch: string } | { readonly tag: string };
  /** For an environment that follows tags: the tag it serves now, and the next one to release with. */
  readonly servedTag?: string;
  readonly nextTag?: string;
}

/**
 * The banner: where everything is, then the next things to try as commands that work as printed
 * in a shell (bash or zsh), one command a line, explanations on lines of their own.
 */
export function formatBanner(facts: BannerFacts): string {
  const { repository, zookeeper, syncer, head } = facts;
  const origin =
    repository.origin.kind === 'in-place'
      ? 'read in place'
      : repository.origin.kind === 'imported'
        ? `imported from ${repository.origin.from}`
        : `continued: imported from ${repository.origin.from} on an earlier start`;
  const commits = `${repository.commits} commit${repository.commits === 1 ? '' : 's'}, the last "${repository.lastCommit}"`;
  const branchEnvs = facts.environments.filter((env) => 'branch' in env.tracks);
  const tagEnvs = facts.environments.filter((env) => 'tag' in env.tracks);
  const serving =
    head.kind === 'mirrored'
      ? [
          `${head.commit.slice(0, 7)} in ${list(branchEnvs.map((env) => env.name)) || 'no environment'}`,
          ...tagEnvs.map(
            (env) =>
              `${env.name} follows tags ${'tag' in env.tracks ? env.tracks.tag : ''}: ${env.servedTag ? `serves ${env.servedTag}` : 'none yet'}`,
          ),
        ].join('; ')
      : `nothing new: commit ${head.commit.slice(0, 7)} was refused (${head.reason}); fix it and commit again, \`cairn validate .\` says where`;

  const lines = [
    '',
    'Cairn is running.',
    '',
    `  repository  ${repository.path}`,
    `              ${origin}; ${commits}`,
    `  zookeeper   ${zookeeper.connectString}${zookeeper.dataDir ? `, data in ${zookeeper.dataDir}` : ''}`,
    `  dashboard   ${syncer.base}/`,
    `  syncer      ${syncer.base}/healthz and /metrics; webhooks to POST /webhook with secret ${syncer.webhookSecret}`,
    `  serving     ${serving}`,
    ...(facts.agents
      ? [
          `  agents      one per host of ${facts.agents.env}, each writing under its own prefix (their commands are not run here):`,
          ...facts.agents.prefixes.map((prefix) => `              ${prefix}`),
        ]
      : []),
    ...(facts.sdkService
      ? [
          `  sdk service ${facts.sdkService.service} in ${facts.sdkService.env}, the SDK's example: ${facts.sdkService.url}/config`,
        ]
      : []),
    '',
    'Try it in another terminal; each command works as printed:',
    '',
    `  export CAIRN_ZK=${zookeeper.connectString}`,
    ...(facts.root === '/cairn' ? [] : [`  export CAIRN_ZK_ROOT=${shellQuote(facts.root)}`]),
    `  cd ${shellQuote(repository.path)}`,
    '',
  ];
  const example = facts.example;
  lines.push('  Edit a file and commit: the syncer mirrors each commit within 2 s.');
  lines.push(
    `    \${EDITOR:-vi} ${example?.file ? shellQuote(example.file) : 'services/<service>/config/<file>'}`,
  );
  lines.push(
    `    git commit -am ${shellQuote(example ? `Change ${example.service}` : 'Change the configuration')}`,
  );
  if (facts.exampleOnHost || facts.sdkService) {
    lines.push(
      facts.exampleOnHost && facts.sdkService
        ? "  See the commit reach a host's files, and the example service (it says which commit it runs)."
        : facts.exampleOnHost
          ? "  See the commit reach a host's files."
          : '  See the commit reach the example service (it says which commit it runs).',
    );
    if (facts.exampleOnHost) lines.push(`    cat ${shellQuote(facts.exampleOnHost)}`);
    if (facts.sdkService) lines.push(`    curl -s ${facts.sdkService.url}/config`);
  }
  lines.push('  See what ZooKeeper serves, and which instances and hosts run which commit.');
  lines.push(`    ${facts.cairn} status`);
  if (example) lines.push(`    ${facts.cairn} get ${example.service} ${example.env}`);
  for (const env of tagEnvs) {
    if (!env.nextTag) continue;
    lines.push(`  Release to ${env.name}, which follows ${'tag' in env.tracks ? env.tracks.tag : ''} tags.`);
    lines.push(`    git tag ${shellQuote(env.nextTag)}`);
  }
  lines.push('  Roll the last commit back: a revert is a commit like any other.');
  lines.push('    git revert --no-edit HEAD');
  lines.push('');
  if (facts.kept) {
    const what = facts.kept.what.charAt(0).toUpperCase() + facts.kept.what.slice(1);
    lines.push(
      `Ctrl-C stops Cairn. ${what} ${what.includes(' and ') ? 'stay' : 'stays'} in ${facts.kept.where}: \`${facts.restart.again}\``,
      `continues where you left off, \`${facts.restart.fresh}\` starts over.`,
    );
  } else {
    lines.push('Ctrl-C stops Cairn.');
  }
  lines.push('');
  return lines.join('\n');
}

function list(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** A word a POSIX shell reads back as it is: bare when safe, otherwise in single quotes. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * A release tag for `pattern` that does not exist yet: `v*` gives v1.0.0, then v1.0.1 when that
 * exists. Undefined for a pattern with other wildcards than one `*`.
 */
export function nextReleaseTag(pattern: string, existing: ReadonlySet<string>): string | undefined {
  if (/[?[\]{}!]/.test(pattern) || pattern.split('*').length !== 2) return undefined;
  for (let patch = 0; patch < 1000; patch++) {
    const tag = pattern.replace('*', `1.0.${patch}`);
    if (!existing.has(tag)) return tag;
  }
  return undefined;
}
