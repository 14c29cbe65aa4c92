import { contentId, type ZkLayout } from '../../core/index.js';

/** The content of the i-th file of a large change. */
export const largeFile = (tag: string, i: number) => `${tag} ${i}\n${'s'.repeat(1000)}\n`;

/** A commit that needs many transactions: `count` files of about 1 KB in every environment of search-api. */
export function largeChange(count: number, tag: string): Record<string, string> {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `services/search-api/config/synonyms/${String(i).padStart(4, '0')}.txt`,
      largeFile(tag, i),
    ]),
  );
}

/** The content node of a large change's first file: it exists once staging has begun. */
export const firstStaged = (layout: ZkLayout, tag: string) =>
  layout.content(contentId(Buffer.from(largeFile(tag, 0))));
