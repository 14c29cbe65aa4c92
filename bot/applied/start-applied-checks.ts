import type { Logger } from 'probot';
import type { SessionKeeper } from '../../core/index.js';
import type { GitHubObserver } from '../github.js';
import type { BotSettings } from '../settings.js';
import { AppliedChecks } from './applied-checks.js';
import { type AppAuthentication, RepositoryGitHub } from './repository-github.js';

/**
 * Starts the "cairn / applied" checks when the settings name a ZooKeeper and a repository, as
 * `cairn bot` does once its server listens; without them the feature is off, and the log says so once.
 */
export function startAppliedChecks(
  app: AppAuthentication & { readonly log: Logger },
  settings: BotSettings,
  observer?: GitHubObserver,
  /** The bot's shared session to the syncer's ZooKeeper (openBotZooKeeper), when it has one. */
  keeper?: SessionKeeper,
): AppliedChecks | undefined {
  const applied = settings.appliedChecks;
  if (!applied) {
    app.log.info(
      'the "cairn / applied" checks are off: set CAIRN_ZK and CAIRN_REPOSITORY to have the bot follow what hosts and instances applied (bot/README.md)',
    );
    return undefined;
  }
  const repository = new RepositoryGitHub(app, applied.repository, observer);
  const log = app.log.child({ name: 'applied-checks' });
  const checks = new AppliedChecks({
    endpoint: applied.endpoint,
    ...(keeper ? { keeper } : {}),
    repository,
    log,
    deadlineMs: applied.deadlineMs,
  });
  checks.start();
  log.info(
    {
      repository: repository.fullName,
      zk: applied.endpoint.connectString,
      root: applied.endpoint.layout.root,
      deadlineMs: applied.deadlineMs,
    },
    'following ZooKeeper to post the "cairn / applied" checks',
  );
  return checks;
}
