import type { Command } from 'commander';
import { connectSession, contentId, readEnvironment, resolveZooKeeperEndpoint } from '../../core/index.js';
import { type CommandContext, EXIT_FINDINGS, EXIT_OK } from '../io.js';

/**
 * `cairn get <service> <env> [file]`: what ZooKeeper serves, read as the SDK reads it (through the
 * environment's pointer, one revision). Without a file, the list of files with their git blob ids;
 * with one, its bytes.
 */
export function registerGet(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('get')
    .description('print an environment’s files as ZooKeeper serves them, or one file’s content')
    .argument('<service>')
    .argument('<env>')
    .argument('[file]', 'a path within the service’s config folder, e.g. rules/boost.yaml')
    .option('--zk <hosts>', 'ZooKeeper ensemble, host:port,... [CAIRN_ZK]')
    .option('--root <path>', 'root znode [CAIRN_ZK_ROOT]')
    .action(
      async (
        service: string,
        env: string,
        file: string | undefined,
        flags: { zk?: string; root?: string },
      ) => {
        const endpoint = resolveZooKeeperEndpoint(flags, io.env);
        const session = await connectSession(endpoint);
        try {
          const read = await readEnvironment(session, endpoint.layout, service, env);
          if (read.kind === 'absent') {
            io.stderr(
              read.mirrored
                ? `cairn: ZooKeeper serves nothing for ${service} in ${env} (unknown service or environment, or not released yet)\n`
                : `cairn: nothing is mirrored under ${endpoint.layout.root} (no ${endpoint.layout.head()}): is the syncer running, and is --root right?\n`,
            );
            setExitCode(EXIT_FINDINGS);
            return;
          }
          const { snapshot } = read;
          const { revision } = snapshot.pointer;
          if (file === undefined) {
            io.stdout(
              `# ${service}/${env} at ${revision.commit}${revision.tag ? ` (${revision.tag})` : ''}\n`,
            );
            for (const [path, bytes] of [...snapshot.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
              io.stdout(`${contentId(bytes)}  ${String(bytes.length).padStart(8)}  ${path}\n`);
            }
          } else {
            const bytes = snapshot.files.get(file);
            if (!bytes) {
              io.stderr(
                `cairn: ${service}/${env} has no ${file}; it has: ${[...snapshot.files.keys()].sort().join(', ')}\n`,
              );
              setExitCode(EXIT_FINDINGS);
              return;
            }
            io.stdout(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
          }
          setExitCode(EXIT_OK);
        } finally {
          await session.close();
        }
      },
    );
}
