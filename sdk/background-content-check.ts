import type { ConfigSnapshot } from './config-snapshot.js';

/** Files checked between two turns of the event loop: about a millisecond of hashing. */
const FILES_PER_SLICE = 200;

/**
 * Checks the files of `snapshot` not yet checked against their content ids (a cache's, whose
 * checksum covers its index alone), a slice at a time between turns of the event loop, so that a
 * start from the cache does not wait for a hash of every file and the service is not held up after
 * it. Resolves with the files whose bytes fail their id, sorted; stops early, with those found so
 * far, once `stopped()` says so.
 */
export function checkContentsInBackground(
  snapshot: ConfigSnapshot,
  stopped: () => boolean,
): Promise<string[]> {
  const files = snapshot.unverifiedFiles();
  const damaged: string[] = [];
  let next = 0;
  return new Promise((resolve) => {
    const slice = () => {
      const end = Math.min(next + FILES_PER_SLICE, files.length);
      for (; next < end && !stopped(); next++) {
        const file = files[next] as string;
        if (snapshot.damaged(file)) damaged.push(file);
      }
      if (next < files.length && !stopped()) setImmediate(slice);
      else resolve(damaged);
    };
    setImmediate(slice);
  });
}
