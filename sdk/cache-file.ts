import { createHash } from 'node:crypto';
import { CONTENT_ID, contentId, encodeEnvironmentManifest, PARSE_RULES_VERSION } from '../core/index.js';
import { type ChangeInfo, isChangeInfo } from './change-info.js';

/** What a cache file holds: one environment's files at one commit. */
export interface CachedSnapshot {
  readonly service: string;
  readonly env: string;
  readonly change: ChangeInfo;
  readonly files: ReadonlyMap<string, Uint8Array>;
  /**
   * Path → content id. Recorded by version 3 files (under the checksum), so a start need not hash
   * every file again; when writing, hashed from the bytes if not given.
   */
  readonly contentIds?: ReadonlyMap<string, string>;
  /** The content id of the manifest naming exactly these files: what a pointer must name to confirm them. */
  readonly manifest?: string;
  /**
   * The parse rules (core's PARSE_RULES_VERSION) under which every file parsed when the snapshot was
   * applied: while they are the same, the files need not be parsed again to know they parse.
   */
  readonly parseRules?: number;
  /**
   * Version 4: the checksum covers the index alone, not the files' bytes. Each file must match its
   * content id (recorded under the checksum) before it is served or lent to another reader.
   */
  readonly contentsUnchecked?: boolean;
}

export type CacheDecodeResult =
  | { readonly ok: true; readonly snapshot: CachedSnapshot }
  | { readonly ok: false; readonly reason: string };

const MAGIC = 'cairn-sdk-cache';
const VERSION = 4;
const HEADER = /^cairn-sdk-cache (\d+) ([0-9a-f]{64})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const NEWLINE = 10;

/** The index line of a version 2, 3 or 4 body: everything but the files' bytes. */
interface CacheIndex {
  service?: unknown;
  env?: unknown;
  change?: unknown;
  /** Version 3 and 4: the manifest's content id, and the parse rules its files passed under. */
  manifest?: unknown;
  parseRules?: unknown;
  /** [path, length in bytes] (version 3 and 4: [path, length, content id]), in the order the bytes follow. */
  files?: unknown;
}

/**
 * A cache file: a header line with the format version and the sha256 of the index line, then the
 * index line (JSON: service, environment, commit record, the manifest's content id, each file's
 * path, length and content id) followed by the files' bytes back to back. Reading it costs the hash
 * of the index and a small JSON parse, whatever the number of files, and the files are views of the
 * one buffer read. Their bytes are not under the checksum: each is checked against its content id
 * (the git blob id the index records, which the checksum does vouch for) before it is served, after
 * the start (`contentsUnchecked`), so a start never waits for a hash of every file. A file cut short
 * or written by someone else fails the checksum or the checks; a byte of a file flipped by a bad
 * disk fails that file's id; neither is ever served. Versions 1 (all JSON, files in base64), 2 (no
 * ids) and 3 (the checksum over the whole body) are still read, and replaced at the next write.
 */
export function encodeCacheFile(snapshot: CachedSnapshot): Uint8Array {
  const files = [...snapshot.files];
  const ids = new Map(
    files.map(([file, bytes]) => [file, snapshot.contentIds?.get(file) ?? contentId(bytes)]),
  );
  const index = Buffer.from(
    `${JSON.stringify({
      service: snapshot.service,
      env: snapshot.env,
      change: snapshot.change,
      manifest: snapshot.manifest ?? contentId(encodeEnvironmentManifest({ files: ids })),
      parseRules: PARSE_RULES_VERSION,
      files: files.map(([file, bytes]) => [file, bytes.byteLength, ids.get(file)]),
    })}\n`,
    'utf8',
  );
  const header = Buffer.from(`${MAGIC} ${VERSION} ${sha256(index)}\n`, 'utf8');
  return Buffer.concat([header, index, ...files.map(([, bytes]) => bytes)]);
}

/**
 * Whether a file whose first line is `firstLine` has its whole body under the checksum (versions 1
 * to 3, and what cannot be told), so a reader hashes the body as it reads; version 4 checksums its
 * index alone.
 */
export function bodyUnderChecksum(firstLine: Uint8Array): boolean {
  const header = HEADER.exec(
    Buffer.from(firstLine.buffer, firstLine.byteOffset, firstLine.byteLength).toString('latin1'),
  );
  return !header || Number(header[1]) < 4;
}

/**
 * `bodySha256`: the body's sha256 (everything after the header line) when the reader hashed it as it
 * read (readHashingBody), so it is not hashed a second time here; versions 1 to 3 only.
 */
export function decodeCacheFile(
  bytes: Uint8Array,
  expected: { readonly service: string; readonly env: string },
  bodySha256?: string,
): CacheDecodeResult {
  const header = decodeHeader(bytes);
  if (!header.ok) return header;
  const { version, checksum, body } = header;
  if (version === 4) return decodeIndexed(body, expected, version, checksum);
  if ((bodySha256 ?? sha256(body)) !== checksum)
    return fail('checksum mismatch (the file is truncated or damaged)');
  return version === 1 ? decodeVersion1(body, expected) : decodeIndexed(body, expected, version);
}

/**
 * A cache file decoded from its index while the files' bytes may still be arriving. `bodyChecksum`:
 * for versions 2 and 3, valid only if the sha256 of the whole body, once read, is this; undefined for
 * version 4, whose index checksum was already compared (the result is final).
 */
export interface UncheckedCacheFile {
  readonly bodyChecksum: string | undefined;
  readonly result: CacheDecodeResult;
}

/**
 * Decodes a version 2 to 4 file from its header and index lines alone, while the files' bytes after
 * them may still be arriving: `bytes` has the file's whole length, its first `filled` bytes read.
 * The snapshot's files are views of `bytes`, whole once the read ends; see UncheckedCacheFile for
 * when it may be served. 'incomplete' while the header or the index line has not arrived; undefined
 * for version 1 files (and files too damaged to say), which decodeCacheFile decodes once read whole.
 */
export function decodeCacheIndexEarly(
  bytes: Uint8Array,
  filled: number,
  expected: { readonly service: string; readonly env: string },
): UncheckedCacheFile | 'incomplete' | undefined {
  const arrived = bytes.subarray(0, filled);
  const header = decodeHeader(arrived);
  if (!header.ok) return arrived.indexOf(NEWLINE) < 0 ? 'incomplete' : undefined;
  if (header.version === 1) return undefined;
  // The index line is the body's first: decodeIndexed reads nothing after it but the lengths.
  if (header.body.indexOf(NEWLINE) < 0) return 'incomplete';
  const bodyStart = filled - header.body.byteLength;
  const body = Buffer.from(bytes.buffer, bytes.byteOffset + bodyStart, bytes.byteLength - bodyStart);
  if (header.version === 4)
    return { bodyChecksum: undefined, result: decodeIndexed(body, expected, 4, header.checksum) };
  return { bodyChecksum: header.checksum, result: decodeIndexed(body, expected, header.version) };
}

function decodeHeader(
  bytes: Uint8Array,
):
  | { readonly ok: true; readonly version: number; readonly checksum: string; readonly body: Buffer }
  | { readonly ok: false; readonly reason: string } {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const newline = data.indexOf(NEWLINE);
  if (newline < 0) return fail('no header line');
  const header = HEADER.exec(data.subarray(0, newline).toString('latin1'));
  if (!header) return fail('not a Cairn cache file (bad header)');
  const version = Number(header[1]);
  if (version < 1 || version > VERSION) return fail(`cache format version ${header[1]}, expected ${VERSION}`);
  return { ok: true, version, checksum: header[2] as string, body: data.subarray(newline + 1) };
}

/**
 * Versions 2 to 4: an index line, then the bytes; versions 3 and 4 also record the content ids.
 * `indexChecksum`: version 4's, the sha256 of the index line (its newline included).
 */
function decodeIndexed(
  body: Buffer,
  expected: { readonly service: string; readonly env: string },
  version: number,
  indexChecksum?: string,
): CacheDecodeResult {
  const withIds = version >= 3;
  const end = body.indexOf(NEWLINE);
  if (end < 0) return fail('no index line');
  if (indexChecksum !== undefined && sha256(body.subarray(0, end + 1)) !== indexChecksum)
    return fail('checksum mismatch (the index is damaged)');
  let index: CacheIndex;
  try {
    index = JSON.parse(body.subarray(0, end).toString('utf8'));
  } catch (error) {
    return fail(`index is not JSON: ${(error as Error).message}`);
  }
  const checked = checkIdentity(index, expected);
  if (checked) return checked;
  if (!Array.isArray(index.files)) return fail('no file list');
  if (withIds && !isContentId(index.manifest)) return fail('no manifest id');
  const files = new Map<string, Uint8Array>();
  const contentIds = new Map<string, string>();
  let offset = end + 1;
  for (const entry of index.files as unknown[]) {
    const [file, length, id] = Array.isArray(entry) ? entry : [];
    if (
      typeof file !== 'string' ||
      !Number.isSafeInteger(length) ||
      length < 0 ||
      (withIds && !isContentId(id))
    )
      return fail(`bad file entry ${JSON.stringify(entry)}`);
    if (offset + length > body.length) return fail(`file ${file} runs past the end`);
    files.set(file, new Uint8Array(body.buffer, body.byteOffset + offset, length));
    if (withIds) contentIds.set(file, id);
    offset += length;
  }
  if (offset !== body.length) return fail(`${body.length - offset} bytes after the last file`);
  if (!withIds) return ok(expected, index.change as ChangeInfo, files);
  const parseRules = Number.isSafeInteger(index.parseRules) ? (index.parseRules as number) : undefined;
  return ok(expected, index.change as ChangeInfo, files, {
    contentIds,
    manifest: index.manifest as string,
    ...(parseRules !== undefined ? { parseRules } : {}),
    ...(version >= 4 ? { contentsUnchecked: true } : {}),
  });
}

function isContentId(value: unknown): value is string {
  return typeof value === 'string' && CONTENT_ID.test(value);
}

function decodeVersion1(
  body: Buffer,
  expected: { readonly service: string; readonly env: string },
): CacheDecodeResult {
  let parsed: CacheIndex;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return fail(`body is not JSON: ${(error as Error).message}`);
  }
  const checked = checkIdentity(parsed, expected);
  if (checked) return checked;
  if (!parsed.files || typeof parsed.files !== 'object' || Array.isArray(parsed.files))
    return fail('no file list');
  const files = new Map<string, Uint8Array>();
  for (const [file, encoded] of Object.entries(parsed.files)) {
    if (typeof encoded !== 'string' || !BASE64.test(encoded)) return fail(`file ${file} is not base64`);
    files.set(file, new Uint8Array(Buffer.from(encoded, 'base64')));
  }
  return ok(expected, parsed.change as ChangeInfo, files);
}

/** A failure when the body is not this service's and environment's, or has no commit record. */
function checkIdentity(
  parsed: CacheIndex,
  expected: { readonly service: string; readonly env: string },
): CacheDecodeResult | undefined {
  if (parsed?.service !== expected.service || parsed.env !== expected.env)
    return fail(
      `written for ${String(parsed?.service)}/${String(parsed?.env)}, not ${expected.service}/${expected.env}`,
    );
  if (!isChangeInfo(parsed.change)) return fail('no commit record');
  return undefined;
}

function ok(
  expected: { readonly service: string; readonly env: string },
  change: ChangeInfo,
  files: Map<string, Uint8Array>,
  ids: Pick<CachedSnapshot, 'contentIds' | 'manifest' | 'parseRules' | 'contentsUnchecked'> = {},
): CacheDecodeResult {
  return { ok: true, snapshot: { service: expected.service, env: expected.env, change, files, ...ids } };
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function fail(reason: string): { readonly ok: false; readonly reason: string } {
  return { ok: false, reason };
}
