/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC starts the sequences that
 * retitle a window or clear the screen, CR and BS overwrite what was printed, a line break forges a
 * line), DEL, C1 controls (U+009B is ESC [ on some terminals) and the bidirectional overrides that
 * reorder what is shown.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\u001b': '\\e' };

/**
 * Text from a repository, ZooKeeper or a host, made safe to print on a terminal: every control
 * character is shown as an escape (`\e`, `\n`, `\x07`, `\u202e`), everything else as it is. Every
 * human-readable output applies it to what it did not write itself; JSON output escapes on its own.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, (character) => {
    const named = NAMED[character];
    if (named) return named;
    const code = character.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
