import { stat } from 'node:fs/promises';
import { connectSession, resolveZooKeeperEndpoint } from '../../core/index.js';
import { parseListen, probeListen } from '../../syncer/index.js';
import { UsageError } from '../usage-error.js';

/** What `cairn start` was asked for, as it checks it. */
export interface StartRequest {
  /** The repository or folder to serve, resolved; `given` when --repo named it. */
  readonly source: { readonly path: string; readonly given?: string };
  readonly listen: string;
  readonly zk?: string;
  readonly root: string;
}

/**
 * Everything a user can get wrong on `cairn start`'s command line, checked before anything is
 * created: a mistake ends it with one line naming the problem and the fix, and leaves no state
 * directory, no ZooKeeper and no repository behind.
 */
export async function checkStartRequest(
  request: StartRequest,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const { source } = request;
  const found = await stat(source.path).catch(() => undefined);
  const named = source.given ?? source.path;
  if (!found)
    throw new UsageError(
      `--repo ${named}: no such directory; pass a git repository (read in place) or a folder of configuration files (imported), or leave --repo out to serve example-config-repo`,
    );
  if (!found.isDirectory())
    throw new UsageError(
      `--repo ${named} is a file; pass the folder of a git repository or of configuration files`,
    );
  const listen = parseListen(request.listen);
  if (listen.port !== 0) await probeListen(listen.host, listen.port);
  if (request.zk !== undefined) await checkZooKeeper(request.zk, request.root, env);
}

/** A ZooKeeper given with --zk must answer now: a wrong address is not retried forever. */
async function checkZooKeeper(
  zk: string,
  root: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const endpoint = resolveZooKeeperEndpoint({ zk, root }, env);
  let session: Awaited<ReturnType<typeof connectSession>> | undefined;
  try {
    session = await connectSession(endpoint);
    // One answer besides the handshake: a server that takes sessions and then hangs is caught too.
    await session.exists(endpoint.layout.root);
  } catch (error) {
    throw new UsageError(
      `--zk ${zk}: ${(error as Error).message}; check the address, or leave --zk out and cairn start runs a ZooKeeper of its own`,
    );
  } finally {
    await session?.close();
  }
}
