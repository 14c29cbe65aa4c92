/**
 * The stable `code` isomorphic-git puts on its errors (`NotFoundError`, `HttpError`, …), or Node's
 * on system errors (`ECONNREFUSED`, …). Failures are told apart by this code, never by message text.
 */
export function gitErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** A read failed because the object is absent, or is not of the kind asked for (a tree, not a commit). */
export function isMissingObject(error: unknown): boolean {
  const code = gitErrorCode(error);
  return code === 'NotFoundError' || code === 'ObjectTypeError' || code === 'InvalidOidError';
}
