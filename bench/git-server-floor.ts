import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** A pkt-line of git's wire protocol: four hex digits of length (their own included), then the line. */
function pktLine(line: string): string {
  return (line.length + 4).toString(16).padStart(4, '0') + line;
}

/**
 * What the git server alone takes to serve one commit's fetch: the ref listing and an upload-pack
 * of `commit` to a client that has `parent`, measured with plain HTTP requests, so the difference
 * to the syncer's fetch phase is the syncer's own. `together`: both requests sent at once, as the
 * syncer does when a push webhook named the commit; else the listing first, then the pack.
 */
export async function gitServerFetchMs(
  repoUrl: string,
  commit: string,
  parent: string,
  { together = false }: { together?: boolean } = {},
): Promise<number> {
  const started = performance.now();
  const listing = async () => {
    const refs = await fetch(`${repoUrl}/info/refs?service=git-upload-pack`);
    if (!refs.ok) throw new Error(`ref listing: HTTP ${refs.status}`);
    await refs.arrayBuffer();
  };
  const pack = async () => {
    const body = `${pktLine(`want ${commit} ofs-delta\n`)}0000${pktLine(`have ${parent}\n`)}${pktLine('done\n')}`;
    const answer = await fetch(`${repoUrl}/git-upload-pack`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-git-upload-pack-request' },
      body,
    });
    if (!answer.ok) throw new Error(`upload-pack: HTTP ${answer.status}`);
    const bytes = Buffer.from(await answer.arrayBuffer());
    if (!bytes.includes('PACK')) throw new Error('upload-pack answered without a pack');
  };
  if (together) await Promise.all([listing(), pack()]);
  else {
    await listing();
    await pack();
  }
  return performance.now() - started;
}

/**
 * One start of the process that answers a ref listing (`git upload-pack --advertise-refs` on the
 * bare repository `gitdir`), without HTTP or `git http-backend` around it: what starting a process
 * costs on this machine, of which the git server starts two per listing and three per pack
 * (http-backend, upload-pack, and pack-objects).
 */
export function uploadPackSpawnMs(gitdir: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['upload-pack', '--stateless-rpc', '--advertise-refs', gitdir], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(performance.now() - started)
        : reject(new Error(`git upload-pack exited with ${String(code)}`)),
    );
  });
}
