import { createAppCredentials, GitHubEmulator } from './github-emulator/index.js';

/**
 * Once per run, before any test file: the GitHub description the emulator checks against, trimmed
 * and cached (github-emulator/openapi.ts). A fresh checkout has no cache, and the first emulator a
 * test made parsed the published 70 MB file on that test's event loop: seconds on a loaded machine,
 * long enough for a ZooKeeper session the test held to expire.
 */
export default function setup(): void {
  new GitHubEmulator(createAppCredentials());
}
