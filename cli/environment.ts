/**
 * Every environment variable the `cairn` command reads, in one place: `--help` shows them (commander's
 * `.env()` beside a flag; a section of the help for those without one), README.md has them in one
 * table, and a test checks that the three agree.
 */
export interface EnvironmentVariable {
  readonly name: string;
  /** The commands that read it; `*` for every command. */
  readonly commands: readonly string[];
  readonly default: string;
  readonly what: string;
  /** Its value is masked in every log line and error message (see secret-redactor.ts). */
  readonly secret?: true;
}

export const ENVIRONMENT: readonly EnvironmentVariable[] = [
  // Every command
  {
    name: 'CAIRN_LOG_LEVEL',
    commands: ['*'],
    default: 'info',
    what: 'trace, debug, info, warn, error, fatal or silent',
  },
  {
    name: 'CAIRN_LOG_FORMAT',
    commands: ['*'],
    default: 'pretty on a terminal, json elsewhere',
    what: 'log lines for people (pretty) or JSON lines (json)',
  },
  { name: 'CAIRN_DEBUG', commands: ['*'], default: 'off', what: 'set to 1 for stack traces with errors' },
  { name: 'NO_COLOR', commands: ['*'], default: 'off', what: 'set to anything for logs without colours' },
  {
    name: 'CAIRN_ZK_CONNECT_TIMEOUT',
    commands: ['*'],
    default: '5s',
    what: 'how long one connection attempt to ZooKeeper waits',
  },
  {
    name: 'CAIRN_ZK_REQUEST_TIMEOUT',
    commands: ['*'],
    default: '10s',
    what: 'deadline of every ZooKeeper request',
  },
  {
    name: 'CAIRN_ZK_SESSION_TIMEOUT',
    commands: ['*'],
    default: '10s (30s for cairn start)',
    what: 'ZooKeeper session timeout; a standby syncer takes over within it',
  },
  {
    name: 'CAIRN_ZK_AUTH',
    commands: ['*'],
    default: 'none',
    what: 'ZooKeeper digest credentials, user:password[,user:password] (prefer CAIRN_ZK_AUTH_FILE)',
  },
  {
    name: 'CAIRN_ZK_AUTH_FILE',
    commands: ['*'],
    default: 'none',
    what: 'a file of ZooKeeper credentials, one user:password a line (cairn acl init writes them)',
  },
  // Flags of several commands
  {
    name: 'CAIRN_ZK',
    commands: ['sync', 'agent', 'status', 'get', 'history', 'deploy', 'acl', 'bot'],
    default: 'none',
    what: 'the ZooKeeper ensemble, host:port,…',
  },
  {
    name: 'CAIRN_ZK_ROOT',
    commands: ['sync', 'agent', 'status', 'get', 'history', 'deploy', 'acl', 'bot'],
    default: '/cairn',
    what: 'the root znode',
  },
  {
    name: 'CAIRN_NOTES_REF',
    commands: ['sync', 'bot'],
    default: 'refs/notes/cairn-approvals',
    what: 'where the bot records approvals as git notes',
  },
  // cairn sync
  {
    name: 'CAIRN_REPO',
    commands: ['sync'],
    default: 'none',
    what: 'the git repository: https URL or local path',
  },
  {
    name: 'CAIRN_GIT_CREDENTIALS_FILE',
    commands: ['sync'],
    default: 'none',
    what: "credentials of an https repository, in git credential-store's format",
  },
  {
    name: 'CAIRN_GIT_TOKEN',
    commands: ['sync'],
    default: 'none',
    what: "a token that may read the https repository (user: the URL's, else x-access-token)",
    secret: true,
  },
  { name: 'CAIRN_BRANCH', commands: ['sync'], default: 'main', what: 'the branch to mirror' },
  { name: 'CAIRN_POLL', commands: ['sync'], default: '30s', what: 'how often to fetch without a webhook' },
  {
    name: 'CAIRN_LISTEN',
    commands: ['sync'],
    default: 'off',
    what: '[host:]port of POST /webhook, GET /healthz, GET /metrics',
  },
  {
    name: 'CAIRN_WEBHOOK_SECRET_FILE',
    commands: ['sync'],
    default: 'none',
    what: 'a file holding the secret of GitHub push webhooks (one of the two is needed with --listen)',
  },
  {
    name: 'CAIRN_WEBHOOK_SECRET',
    commands: ['sync'],
    default: 'none',
    what: 'secret of GitHub push webhooks, when not in a file',
    secret: true,
  },
  {
    name: 'CAIRN_GIT_TIMEOUT',
    commands: ['sync'],
    default: '30s',
    what: "how long a fetch waits for the git server's answer, or its next bytes",
  },
  {
    name: 'CAIRN_CACHE_DIR',
    commands: ['sync'],
    default: 'a folder under the temp dir',
    what: 'where the git clone is kept between runs',
  },
  {
    name: 'CAIRN_REPLICA_ID',
    commands: ['sync'],
    default: 'host:pid',
    what: 'the name of this replica in the election',
  },
  {
    name: 'CAIRN_MAX_FILES',
    commands: ['sync'],
    default: '200000',
    what: 'refuse a commit of more files than this, before reading them',
  },
  {
    name: 'CAIRN_MAX_PATH_DEPTH',
    commands: ['sync'],
    default: '64',
    what: 'refuse a commit nesting folders deeper than this, before reading it',
  },
  // cairn deploy
  {
    name: 'CAIRN_USER',
    commands: ['deploy'],
    default: 'the login name',
    what: 'who acts, recorded with a deploy control action (--by)',
  },
  // cairn agent
  {
    name: 'CAIRN_AGENT_HOST',
    commands: ['agent'],
    default: "the machine's name",
    what: "this host's name in the service tree",
  },
  {
    name: 'CAIRN_AGENT_PREFIX',
    commands: ['agent'],
    default: 'none',
    what: 'a folder every service directory is placed under',
  },
  {
    name: 'CAIRN_AGENT_STATE_DIR',
    commands: ['agent'],
    default: '/var/lib/cairn-agent',
    what: 'where the agent keeps copies of what it wrote',
  },
  {
    name: 'CAIRN_AGENT_DRIFT_INTERVAL',
    commands: ['agent'],
    default: '60s',
    what: 'how often managed files are compared with what was written',
  },
  {
    name: 'CAIRN_AGENT_DRIFT',
    commands: ['agent'],
    default: 'repair',
    what: 'repair drifted files, or only report them',
  },
  {
    name: 'CAIRN_AGENT_COMMAND_TIMEOUT',
    commands: ['agent'],
    default: '30s',
    what: 'deadline of each check and reload command',
  },
  // cairn bot: Probot's own, also read from .env in the working directory
  { name: 'APP_ID', commands: ['bot'], default: 'none: registers the app', what: "the GitHub App's id" },
  {
    name: 'PRIVATE_KEY',
    commands: ['bot'],
    default: 'none',
    what: "the app's private key, PEM",
    secret: true,
  },
  {
    name: 'PRIVATE_KEY_PATH',
    commands: ['bot'],
    default: 'none',
    what: "a file holding the app's private key",
  },
  {
    name: 'WEBHOOK_SECRET',
    commands: ['bot'],
    default: 'none',
    what: "the app's webhook secret",
    secret: true,
  },
  { name: 'PORT', commands: ['bot'], default: '3000', what: 'the port the bot listens on' },
  { name: 'HOST', commands: ['bot'], default: 'all interfaces', what: 'the address the bot listens on' },
  {
    name: 'WEBHOOK_PROXY_URL',
    commands: ['bot'],
    default: 'none',
    what: 'a smee.io channel relaying webhooks during development',
  },
  {
    name: 'GH_ORG',
    commands: ['bot'],
    default: 'none',
    what: 'register the app on this organization instead of your account',
  },
  { name: 'GHE_HOST', commands: ['bot'], default: 'none', what: 'a GitHub Enterprise Server host name' },
  {
    name: 'LOG_LEVEL',
    commands: ['bot'],
    default: 'info',
    what: "Probot's name for CAIRN_LOG_LEVEL, used when that is not set",
  },
  {
    name: 'LOG_FORMAT',
    commands: ['bot'],
    default: 'as CAIRN_LOG_FORMAT',
    what: "Probot's name for CAIRN_LOG_FORMAT, used when that is not set",
  },
  // cairn bot: Cairn's
  {
    name: 'CAIRN_BLOB_CONCURRENCY',
    commands: ['bot'],
    default: '8',
    what: 'blobs fetched at once while reading a commit (1–64)',
  },
  { name: 'CAIRN_BLOB_CACHE_MB', commands: ['bot'], default: '64', what: 'file content kept between events' },
  {
    name: 'CAIRN_REPOSITORY',
    commands: ['bot'],
    default: 'none: applied checks off',
    what: 'the repository the syncer mirrors, owner/name (with CAIRN_ZK)',
  },
  {
    name: 'CAIRN_APPLIED_DEADLINE',
    commands: ['bot'],
    default: '30m',
    what: 'how long an applied check waits before it times out',
  },
];

/**
 * A section of `--help` listing the variables a command reads that no flag of its shows with
 * `(env: …)`: every command's, in the help of `cairn` itself, and the bot's in `cairn bot --help`.
 */
export function environmentHelp(title: string, names: readonly string[]): string {
  const rows = names.map((name) => {
    const variable = ENVIRONMENT.find((v) => v.name === name);
    if (!variable) throw new Error(`${name} is not in cli/environment.ts`);
    return variable;
  });
  const width = Math.max(...rows.map((v) => v.name.length));
  return `\n${title}\n${rows.map((v) => `  ${v.name.padEnd(width)}  ${v.what} (default: ${v.default})`).join('\n')}\n`;
}

/** The variables whose values are secrets: masked wherever Cairn writes to stderr. */
export const SECRET_VARIABLES = ENVIRONMENT.filter((v) => v.secret).map((v) => v.name);

/** The variables every command reads, shown by `cairn --help`. */
export const EVERY_COMMAND = ENVIRONMENT.filter((v) => v.commands.includes('*')).map((v) => v.name);
