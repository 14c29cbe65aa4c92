/** What a secret is replaced with wherever Cairn writes to stderr. */
export const REDACTED = '[redacted]';

/**
 * Secrets shorter than this are not masked: replacing every "abc" of the log would garble it and
 * protect nothing a guess would not find.
 */
const MIN_SECRET_LENGTH = 6;

/** `scheme://user:password@` or `scheme://token@` in a URL anywhere in a text. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'<>]+@/gi;

/**
 * Masks what must never be shown: every known secret value (a token, a webhook secret, a private
 * key, a ZooKeeper password — registered as settings are read) as written and as JSON escapes it,
 * and the credentials of any URL. Every log line and error message on stderr passes through it.
 */
export class SecretRedactor {
  private secrets: string[] = [];

  /** Registers a secret; empty or very short values, and undefined, are ignored. */
  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
    const forms = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
    // Longest first, so a secret containing another is masked whole.
    this.secrets = [...new Set([...this.secrets, ...forms])].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let masked = text;
    for (const secret of this.secrets) masked = masked.split(secret).join(REDACTED);
    return masked.replace(URL_USERINFO, `$1${REDACTED}@`);
  }
}
