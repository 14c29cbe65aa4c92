/**
 * GitHub's limit for a check run's summary and text (65,535 characters) and, one higher, for a
 * comment's body. Counted in UTF-16 code units, as GitHub counts.
 */
export const CHECK_OUTPUT_LIMIT = 65_535;
export const COMMENT_BODY_LIMIT = 65_536;

/**
 * Cuts `text` to at most `limit` characters, ending on a whole line, and appends `note` (which says
 * what was left out and where to see it) so a reader knows the text is incomplete.
 */
export function truncateText(text: string, limit: number, note: string): string {
  if (text.length <= limit) return text;
  const tail = `\n\n${note}`;
  let cut = text.slice(0, Math.max(0, limit - tail.length));
  const lastLine = cut.lastIndexOf('\n');
  if (lastLine > 0) cut = cut.slice(0, lastLine);
  return `${cut}${tail}`.slice(0, limit);
}
