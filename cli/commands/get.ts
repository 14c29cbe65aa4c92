import { type Command, Option } from 'commander';
import {
  connectSession,
  contentId,
  decodeHeadRecord,
  type Revision,
  readEnvironment,
  resolveZooKeeperEndpoint,
  type ZkLayout,
  type ZkSession,
} from '../../core/index.js';
import { endpointSettings } from '../endpoint-flags.js';
import { type CommandContext, EXIT_FINDINGS, EXIT_OK } from '../io.js';
import { UsageError } from '../usage-error.js';

/**
 * `cairn get <service> <env> [file]`: what ZooKeeper serves, read as the SDK reads it (through the
 * environment's pointer, one revision). Without a file, the list of files with their git blob ids,
 * headed by the commit (and release tag) the environment serves; with one, its bytes.
 */
export function registerGet(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('get')
    .description('print an environment’s files as ZooKeeper serves them, or one file’s content')
    .argument('<service>')
    .argument('<env>')
    .argument('[file]', 'a path within the service’s config folder, e.g. rules/boost.yaml')
    .addOption(new Option('--zk <hosts>', 'ZooKeeper ensemble, host:port,...').env('CAIRN_ZK'))
    .addOption(new Option('--root <path>', 'root znode').env('CAIRN_ZK_ROOT'))
    .addOption(
      new Option('--zk-auth-file <file>', 'ZooKeeper credentials, one user:password a line').env(
        'CAIRN_ZK_AUTH_FILE',
      ),
    )
    .option('--format <format>', 'text or json, for the list of files', 'text')
    .action(
      async (
        service: string,
        env: string,
        file: string | undefined,
        flags: { zk?: string; root?: string; format: string },
      ) => {
        if (flags.format !== 'text' && flags.format !== 'json')
          throw new UsageError(`unknown --format "${flags.format}": use text or json`);
        const endpoint = resolveZooKeeperEndpoint(endpointSettings(flags), io.env);
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
          if (file === undefined) {
            // What the environment serves now (the tag's commit, for one that follows tags), which
            // may be later than the commit that last changed these files.
            const serves = (await servedRevision(session, endpoint.layout, env)) ?? snapshot.pointer.revision;
            const changedBy = snapshot.pointer.revision;
            const files = [...snapshot.files]
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([path, bytes]) => ({ path, id: contentId(bytes), size: bytes.length }));
            if (flags.format === 'json') {
              io.stdout(
                `${JSON.stringify(
                  {
                    service,
                    env,
                    serves: { commit: serves.commit, ...(serves.tag ? { tag: serves.tag } : {}) },
                    filesChangedBy: {
                      commit: changedBy.commit,
                      ...(changedBy.tag ? { tag: changedBy.tag } : {}),
                    },
                    files,
                  },
                  null,
                  2,
                )}\n`,
              );
            } else {
              io.stdout(`# ${service}/${env} at ${serves.commit}${serves.tag ? ` (${serves.tag})` : ''}\n`);
              if (changedBy.commit !== serves.commit)
                io.stdout(
                  `# files as last changed by ${changedBy.commit}${changedBy.tag ? ` (${changedBy.tag})` : ''}\n`,
                );
              for (const f of files) io.stdout(`${f.id}  ${String(f.size).padStart(8)}  ${f.path}\n`);
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

/** The revision `/head` says the environment serves, if it says. */
async function servedRevision(
  session: ZkSession,
  layout: ZkLayout,
  env: string,
): Promise<Revision | undefined> {
  const node = await session.getIfExists(layout.head());
  return node ? decodeHeadRecord(node.data, layout.head()).environments[env] : undefined;
}
