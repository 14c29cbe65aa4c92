import { CairnError } from '../core/index.js';

/**
 * The fields a failure is logged with. An expected one — a CairnError: ZooKeeper or git out of
 * reach, a commit refused — is its code alone (the message says what happened), with no stack
 * trace, which would only suggest a bug; anything else is logged whole, stack and all, as one.
 */
export function problemFields(error: unknown): { code: string; err?: unknown } {
  return error instanceof CairnError ? { code: error.code } : { code: 'UNEXPECTED', err: error };
}
