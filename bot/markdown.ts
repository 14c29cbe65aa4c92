/**
 * Text from outside the bot (host names, instance ids, commands and what they printed) shown in
 * GitHub Markdown exactly as it is: never emphasis, a link, a mention, HTML or a broken table.
 */

/**
 * Inline text, escaped: every character that could start Markdown, HTML, an entity, a mention, an
 * issue reference, an emoji or math is backslash-escaped (CommonMark lets any ASCII punctuation be),
 * and line breaks become spaces, so it is safe inside a table cell. Never put it at a line's start.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\r?\n|\r/g, ' ').replace(/[\\`*_[\]{}<>|~#&:@!$^]/g, '\\$&');
}

/** Inline code that no backtick inside can end early; not for table cells (a `|` would split it). */
export function codeSpan(text: string): string {
  const flat = text.replace(/\r?\n|\r/g, ' ');
  const fence = '`'.repeat(longestRun(flat, '`') + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced block that no line inside can close: its fence is longer than any run of backticks in it. */
export function codeBlock(text: string, info = 'text'): string {
  const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1));
  return `${fence}${info}\n${text.replace(/\n+$/, '')}\n${fence}`;
}

function longestRun(text: string, char: string): number {
  let longest = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}
