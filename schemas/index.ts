// The public surface of schemas/: every exported name is listed here on purpose.
export { checkManifest, MANIFEST_SCHEMAS } from './manifest-checker.js';
export { checkSemantics } from './semantic-checks.js';
export type { RepoValidation } from './validate-repo.js';
export { validateRepo, validateRepoDir, validateRepoInSlices } from './validate-repo.js';
export { VALIDATOR_VERSION } from './validator-version.js';
