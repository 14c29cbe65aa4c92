import { loadavg } from 'node:os';
import pino from 'pino';
import { FencedWriter, ZkLayout, ZkSession } from '../core/index.js';
import { openGitSource } from '../syncer/git/index.js';
import { Mirror } from '../syncer/mirror.js';
import { openValidationCache } from '../syncer/validation-cache.js';
import { ensureLayout } from '../syncer/zk/bootstrap.js';

/**
 * A syncer's mirror, in a process of its own: the syncer bench starts it for the 100,000-file
 * repository's first mirror, so that the peak memory it reports is the syncer's alone (not the
 * bench's, with the git work repository and the smaller repositories measured before), and for the
 * 10,000-file repository's restart, which is a new process with the clone and the validation cache
 * kept. It fetches `url` into `cacheDir` (a clone the first time), mirrors the branch head under
 * `root` and prints one JSON line: the time, the phases, the files parsed, the process's peak RSS,
 * the longest the event loop was held, when the validation cache was open, and the load.
 */
/**
 * Longer than the syncer's default 10 s, so that a hold of the event loop is measured rather than
 * ending the run (isomorphic-git's indexing of the pack once held it 11.2 s).
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
/** When it ended, from the sync's start: which phase held it (the phases come one after the other). */
let longestBlockEndedAtMs = 0;
let started = performance.now();
// The same while the source fetches.
let longestFetchBlockMs = 0;
let fetching = false;
let lastTick = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  if (now - lastTick > longestBlockMs) {
    longestBlockMs = now - lastTick;
    longestBlockEndedAtMs = now - started;
  }
  if (fetching) longestFetchBlockMs = Math.max(longestFetchBlockMs, now - lastTick);
  lastTick = now;
}, 20);
const fence = await session.create('/bench-fence-', new Uint8Array(0), 'ephemeral-sequential');
const layout = new ZkLayout(root);
await ensureLayout(session, layout);
const source = openGitSource({ url, branch: 'main', cacheDir, timeoutMs: Number(gitTimeoutMs) });
const fetchHead = source.fetchHead.bind(source);
source.fetchHead = async () => {
  fetching = true;
  try {
    return await fetchHead();
  } finally {
    // The loop has been held since the last tick up to the fetch's end, at least.
    longestFetchBlockMs = Math.max(longestFetchBlockMs, performance.now() - lastTick);
    fetching = false;
  }
};
started = performance.now();
// Handed over while it opens, as the syncer does: git is read meanwhile.
let cacheOpenMs = 0;
const validationCache = openValidationCache(cacheDir, logger).then((cache) => {
  cacheOpenMs = performance.now() - started;
  return cache;
});
const mirror = new Mirror({ layout, source, branch: 'main', logger, validationCache });
const outcome = await mirror
  .sync({
    session,
    writer: new FencedWriter(session, () => ({ op: 'check', path: fence, version: 0 })),
    term: 1,
  })
  .catch((error: unknown) => {
    // Said on stdout, so the bench can tell how long the loop was held before the failure.
    process.stdout.write(
      `${JSON.stringify({ error: String(error), longestBlockMs, longestFetchBlockMs })}\n`,
    );
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
    longestBlockEndedAtMs,
    longestFetchBlockMs,
    cacheOpenMs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(', '),
  })}\n`,
);
source.close();
await session.close();
process.exit(0);
