import type { Command } from 'commander';
import {
  CairnError,
  contentId,
  type EnvironmentSnapshot,
  readEnvironmentSnapshot,
  ZkLayout,
  ZkSession,
} from '../../core/index.js';
import { type CommandContext, EXIT_FINDINGS, EXIT_OK } from '../io.js';
import { UsageError } from '../usage-error.js';

/** How long to keep trying while a large commit is being written. */
const CONSISTENT_READ_DEADLINE_MS = 10_000;

/**
 * `cairn get <service> <env> [file]`: what ZooKeeper serves, read as the SDK reads it (one commit,
 * proven consistent). Without a file, the list of files with their git blob ids; with one, its bytes.
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
        const zk = flags.zk ?? io.env.CAIRN_ZK;
        if (!zk) throw new UsageError('no ZooKeeper: pass --zk <host:port,...> or set CAIRN_ZK');
        const layout = new ZkLayout(flags.root ?? io.env.CAIRN_ZK_ROOT ?? '/cairn');
        const session = await ZkSession.connect({ connectString: zk, connectTimeoutMs: 5000 });
        try {
          const snapshot = await readConsistently(session, layout, service, env);
          if (!snapshot) {
            io.stderr(
              `cairn: ZooKeeper serves nothing for ${service} in ${env} (unknown service or environment, or not released yet)\n`,
            );
            setExitCode(EXIT_FINDINGS);
            return;
          }
          if (file === undefined) {
            io.stdout(`# ${service}/${env} at ${snapshot.head.commit}\n`);
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

async function readConsistently(
  session: ZkSession,
  layout: ZkLayout,
  service: string,
  env: string,
): Promise<EnvironmentSnapshot | undefined> {
  const deadline = Date.now() + CONSISTENT_READ_DEADLINE_MS;
  for (;;) {
    const read = await readEnvironmentSnapshot(session, layout, service, env);
    if (read.consistent) return read.snapshot;
    if (Date.now() > deadline) {
      throw new CairnError(
        'INCONSISTENT_READ',
        `no consistent snapshot of ${service}/${env} within ${CONSISTENT_READ_DEADLINE_MS} ms: ${read.reason}; is a syncer stuck half-way through a commit?`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
