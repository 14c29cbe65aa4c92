/** The steering actions a comment may ask for; `skip` and `retry` name hosts, so stay on the command line. */
export const COMMENT_ACTIONS = ['pause', 'resume', 'abort'] as const;

export type CommentAction = (typeof COMMENT_ACTIONS)[number];

/** A `/cairn …` comment, read. */
export type CairnCommand =
  | { readonly kind: 'steer'; readonly action: CommentAction; readonly reason?: string }
  | { readonly kind: 'unknown'; readonly word: string };

/** Reasons are kept in the control record and the deployment's history: a line, not an essay. */
export const REASON_LIMIT = 500;

/**
 * Reads a comment's first line as `/cairn pause|resume|abort [reason]`; undefined when the comment
 * is no command (it does not start with `/cairn`), so ordinary discussion is left alone.
 */
export function parseCairnCommand(body: string): CairnCommand | undefined {
  const line = body.trimStart().split(/\r?\n/, 1)[0] ?? '';
  const match = /^\/cairn(?:\s+(\S+)(?:\s+(.*))?)?$/i.exec(line.trimEnd());
  if (!match) return undefined;
  const word = (match[1] ?? '').toLowerCase();
  const action = COMMENT_ACTIONS.find((a) => a === word);
  if (!action) return { kind: 'unknown', word: match[1] ?? '' };
  const reason = match[2]?.trim().slice(0, REASON_LIMIT);
  return { kind: 'steer', action, ...(reason ? { reason } : {}) };
}
