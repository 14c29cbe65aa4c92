import picomatch from 'picomatch';

/** A tag of the config repository and the commit it points at (peeled, for annotated tags). */
export interface TagRef {
  readonly name: string;
  readonly commit: string;
}

/**
 * The tag an environment tracking `pattern` (a glob, e.g. `v*`) serves: of the matching tags, the
 * highest in version order, comparing runs of digits as numbers (`v1.10.0` after `v1.9.3`).
 */
export function newestMatchingTag(pattern: string, tags: readonly TagRef[]): TagRef | undefined {
  const matches = picomatch(pattern);
  let newest: TagRef | undefined;
  for (const tag of tags) {
    if (matches(tag.name) && (!newest || compareVersions(tag.name, newest.name) > 0)) newest = tag;
  }
  return newest;
}

const collator = new Intl.Collator('en', { numeric: true });

function compareVersions(a: string, b: string): number {
  return collator.compare(a, b);
}
