import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type CommandContext, EXIT_OK } from '../io.js';
import { prepareRollback } from '../rollback/prepare-rollback.js';

/** `cairn rollback <service> <env>`: the revert of the commit that set the live release, on a new branch. */
export function registerRollback(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('rollback')
    .description('prepare the git revert of the commit that set an environment’s release, on a new branch')
    .argument('<service>')
    .argument('<env>')
    .option('--repo <dir>', 'a clone of the config repository', '.')
    .option('--base <branch>', 'the branch environments follow', 'main')
    .action(async (service: string, env: string, flags: { repo: string; base: string }) => {
      const prepared = await prepareRollback({
        repo: resolve(io.cwd, flags.repo),
        service,
        env,
        base: flags.base,
      });
      io.stdout(
        [
          `Prepared ${prepared.branch}: reverts ${prepared.reverted.slice(0, 12)} "${prepared.subject}",`,
          `so ${service} in ${env} goes back from ${prepared.from} to ${prepared.to}.`,
          '',
          'Next:',
          `  git push -u origin ${prepared.branch}`,
          `  open a pull request into ${prepared.base}; once merged, the rollout starts (cairn deploy status ${service} ${env})`,
          '  to skip the canary and the bake, add `rollback: true` under strategy: in the release manifest (the batch size stays)',
          '',
        ].join('\n'),
      );
      setExitCode(EXIT_OK);
    });
}
