import { performance } from 'node:perf_hooks';

/** A pkt-line of git's wire protocol: four hex digits of length (their own included), then the line. */
function pktLine(line: string): string {
  return (line.length + 4).toString(16).padStart(4, '0') + line;
}

/**
 * What the git server alone takes to serve one commit's fetch, as the syncer's does it: the ref
 * listing, then an upload-pack of `commit` to a client that has `parent`. Measured with plain HTTP
 * requests, so the difference to the syncer's fetch phase is the syncer's own.
 */
export async function gitServerFetchMs(repoUrl: string, commit: string, parent: string): Promise<number> {
  const started = performance.now();
  const refs = await fetch(`${repoUrl}/info/refs?service=git-upload-pack`);
  if (!refs.ok) throw new Error(`ref listing: HTTP ${refs.status}`);
  await refs.arrayBuffer();
  const body = `${pktLine(`want ${commit} ofs-delta\n`)}0000${pktLine(`have ${parent}\n`)}${pktLine('done\n')}`;
  const pack = await fetch(`${repoUrl}/git-upload-pack`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-git-upload-pack-request' },
    body,
  });
  if (!pack.ok) throw new Error(`upload-pack: HTTP ${pack.status}`);
  const bytes = Buffer.from(await pack.arrayBuffer());
  if (!bytes.includes('PACK')) throw new Error('upload-pack answered without a pack');
  return performance.now() - started;
}
