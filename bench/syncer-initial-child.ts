import { loadavg } from 'node:os';
import pino from 'pino';
import { FencedWriter, ZkLayout, ZkSession } from '../core/index.js';
import { openGitSource } from '../syncer/git/index.js';
import { Mirror } from '../syncer/mirror.js';
import { openValidationCache } from '../syncer/validation-cache.js';
import { ensureLayout } from '../syncer/zk/bootstrap.js';

/**
 * A syncer's first mirror, in a process of its own: the syncer bench starts it for the 100,000-file
 * repository so that the peak memory it reports is the syncer's alone (not the bench's, with the
 * git work repository and the smaller repositories measured before). It clones `url` into
 * `cacheDir`, mirrors the branch head under `root` and prints one JSON line: the time, the phases,
 * the files parsed, the process's peak RSS, the longest the event loop was held, and the load.
 */
/**
 * The syncer's own work yields every 50 ms, but isomorphic-git writes the index of a first clone's
 * pack in one go: 9.6 s for 200,000 objects at a load of 8 (its fan-out table walks every
 * object id 256 times), longer than the default 10 s session, and more on a busier machine.
 */
const SESSION_TIMEOUT_MS = 60_000;
const [connectString, url, root, cacheDir, gitTimeoutMs] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const logger = pino({ level: process.env.CAIRN_BENCH_LOG ?? 'silent' }, pino.destination(2));
const session = await ZkSession.connect({ connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS });
// The longest the event loop was held: what a session's pings waited for.
let longestBlockMs = 0;
let lastTick = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  longestBlockMs = Math.max(longestBlockMs, now - lastTick);
  lastTick = now;
}, 20);
const fence = await session.create('/bench-fence-', new Uint8Array(0), 'ephemeral-sequential');
const layout = new ZkLayout(root);
await ensureLayout(session, layout);
const source = openGitSource({ url, branch: 'main', cacheDir, timeoutMs: Number(gitTimeoutMs) });
const started = performance.now();
const mirror = new Mirror({
  layout,
  source,
  branch: 'main',
  logger,
  validationCache: await openValidationCache(cacheDir, logger),
});
const outcome = await mirror
  .sync({
    session,
    writer: new FencedWriter(session, () => ({ op: 'check', path: fence, version: 0 })),
    term: 1,
  })
  .catch((error: unknown) => {
    // Said on stdout, so the bench can tell how long the loop was held before the failure.
    process.stdout.write(`${JSON.stringify({ error: String(error), longestBlockMs })}\n`);
    process.exit(1);
  });
const ms = performance.now() - started;
clearInterval(ticker);
if (outcome.kind !== 'mirrored') throw new Error(`the repository was not mirrored: ${outcome.kind}`);
process.stdout.write(
  `${JSON.stringify({
    ms,
    timings: outcome.timings,
    filesParsed: outcome.filesParsed,
    transactions: outcome.transactions,
    sessionTimeoutMs: session.sessionTimeoutMs,
    longestBlockMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(', '),
  })}\n`,
);
source.close();
await session.close();
process.exit(0);
