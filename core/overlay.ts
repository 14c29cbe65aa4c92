import type { FileFormat } from './file-format.js';

/**
 * Merges an environment's overlay over a base value, by the rules of the config repository:
 * YAML and JSON deep-merge (maps merge, arrays replace, `null` deletes a key); TOML merges tables
 * the same way; properties and INI merge key by key (INI section by section). Text is not merged:
 * the overlay replaces the base whole (the caller never calls this for text).
 */
export function mergeOverlay(format: Exclude<FileFormat, 'text'>, base: unknown, overlay: unknown): unknown {
  switch (format) {
    case 'yaml':
    case 'json':
    case 'toml':
    case 'ini':
      return deepMerge(base, overlay);
    case 'properties':
      return { ...(base as Record<string, string>), ...(overlay as Record<string, string>) };
  }
}

/** Maps merge recursively; anything else (arrays, scalars) in the overlay replaces the base. */
export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (!isPlainMap(base) || !isPlainMap(overlay)) return overlay;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (value === null) delete merged[key];
    else merged[key] = key in merged ? deepMerge(merged[key], value) : withoutNulls(value);
  }
  return merged;
}

/** A key the overlay adds fresh keeps no `null` members: null means "delete" throughout an overlay. */
function withoutNulls(value: unknown): unknown {
  if (!isPlainMap(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (member !== null) out[key] = withoutNulls(member);
  }
  return out;
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
