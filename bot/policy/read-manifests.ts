import {
  type Diagnostic,
  type ManifestKind,
  manifestProblems,
  POLICY_FILE,
  type PolicyManifest,
  type Principal,
  parseSource,
  type ServiceManifest,
} from '../../core/index.js';
import { checkManifest } from '../../schemas/index.js';

export type PolicyReading =
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly first: Diagnostic }
  | { readonly kind: 'valid'; readonly policy: PolicyManifest };

/** policy.yaml from its bytes, checked against its schema; anything short of valid is said so. */
export function readPolicy(bytes: Uint8Array | undefined): PolicyReading {
  if (bytes === undefined) return { kind: 'missing' };
  const result = readManifest<PolicyManifest>('policy', POLICY_FILE, bytes);
  return 'first' in result
    ? { kind: 'invalid', first: result.first }
    : { kind: 'valid', policy: result.value };
}

/** The owners a service.yaml names, or undefined when the manifest does not validate. */
export function readOwners(path: string, bytes: Uint8Array | undefined): readonly Principal[] | undefined {
  if (bytes === undefined) return undefined;
  const result = readManifest<ServiceManifest>('service', path, bytes);
  return 'value' in result ? result.value.owners : undefined;
}

function readManifest<T>(
  kind: ManifestKind,
  path: string,
  bytes: Uint8Array,
): { readonly value: T } | { readonly first: Diagnostic } {
  const document = parseSource(path, bytes, 'yaml');
  const problems = [...document.diagnostics];
  if (!problems.some((d) => d.severity === 'error'))
    problems.push(...manifestProblems(kind, path, document, checkManifest));
  const first = problems.find((d) => d.severity === 'error');
  return first ? { first } : { value: document.value as T };
}
