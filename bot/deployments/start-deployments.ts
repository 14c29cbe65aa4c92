import type { Logger } from 'probot';
import { errorLogFields, SessionKeeper, type ZkLayout } from '../../core/index.js';
import { type AppAuthentication, RepositoryGitHub } from '../applied/repository-github.js';
import type { GitHubObserver } from '../github.js';
import type { AppliedChecksSettings } from '../settings.js';
import { GitHubDeployments } from './github-deployments.js';

/**
 * The bot's one session to the syncer's ZooKeeper, shared by the applied checks, the deployments'
 * mirror and the comments' control actions, and the layout of its paths.
 */
export interface BotZooKeeper {
  readonly keeper: SessionKeeper;
  readonly layout: ZkLayout;
}

/** Opens the bot's session to the syncer's ZooKeeper, kept open (reconnecting) until `keeper.close()`. */
export function openBotZooKeeper(settings: AppliedChecksSettings, log: Logger): BotZooKeeper {
  const { endpoint } = settings;
  const keeper = new SessionKeeper({
    endpoint,
    onAttemptFailed: (error, failures) => {
      if (failures > 0 && (failures & (failures - 1)) === 0)
        log.warn(
          { ...errorLogFields(error), failures, zk: endpoint.connectString },
          'cannot reach ZooKeeper: retrying',
        );
    },
  });
  keeper.start();
  return { keeper, layout: endpoint.layout };
}

/**
 * Starts mirroring Cairn's deployments as GitHub Deployments of the repository the syncer mirrors,
 * as `cairn bot` does once its server listens.
 */
export function startGitHubDeployments(
  app: AppAuthentication & { readonly log: Logger },
  settings: AppliedChecksSettings,
  zookeeper: BotZooKeeper,
  observer?: GitHubObserver,
): GitHubDeployments {
  const repository = new RepositoryGitHub(app, settings.repository, observer);
  const log = app.log.child({ name: 'github-deployments' });
  const deployments = new GitHubDeployments({
    keeper: zookeeper.keeper,
    layout: zookeeper.layout,
    repository,
    log,
  });
  deployments.start();
  log.info({ repository: repository.fullName }, 'mirroring deployments as GitHub Deployments');
  return deployments;
}
