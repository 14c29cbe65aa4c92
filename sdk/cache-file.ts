import { createHash } from 'node:crypto';
import { type ChangeInfo, isChangeInfo } from './change-info.js';

/** What a cache file holds: one environment's files at one commit. */
export interface CachedSnapshot {
  readonly service: string;
  readonly env: string;
  readonly change: ChangeInfo;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

export type CacheDecodeResult =
  | { readonly ok: true; readonly snapshot: CachedSnapshot }
  | { readonly ok: false; readonly reason: string };

const MAGIC = 'cairn-sdk-cache';
const VERSION = 1;
const HEADER = /^cairn-sdk-cache (\d+) ([0-9a-f]{64})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A cache file: a header line with the format version and the sha256 of the body, then the body (JSON:
 * service, environment, commit and every file in base64). A file cut short, flipped by a bad disk or
 * written by someone else fails the checksum or the checks, and is never served.
 */
export function encodeCacheFile(snapshot: CachedSnapshot): Uint8Array {
  const body = Buffer.from(
    JSON.stringify({
      service: snapshot.service,
      env: snapshot.env,
      change: snapshot.change,
      files: Object.fromEntries(
        [...snapshot.files].map(([file, bytes]) => [file, Buffer.from(bytes).toString('base64')]),
      ),
    }),
    'utf8',
  );
  const header = Buffer.from(`${MAGIC} ${VERSION} ${sha256(body)}\n`, 'utf8');
  return Buffer.concat([header, body]);
}

export function decodeCacheFile(
  bytes: Uint8Array,
  expected: { readonly service: string; readonly env: string },
): CacheDecodeResult {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const newline = data.indexOf(10);
  if (newline < 0) return fail('no header line');
  const header = HEADER.exec(data.subarray(0, newline).toString('latin1'));
  if (!header) return fail('not a Cairn cache file (bad header)');
  if (Number(header[1]) !== VERSION) return fail(`cache format version ${header[1]}, expected ${VERSION}`);
  const body = data.subarray(newline + 1);
  if (sha256(body) !== header[2]) return fail('checksum mismatch (the file is truncated or damaged)');

  let parsed: { service?: unknown; env?: unknown; change?: unknown; files?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return fail(`body is not JSON: ${(error as Error).message}`);
  }
  if (parsed?.service !== expected.service || parsed.env !== expected.env)
    return fail(
      `written for ${String(parsed?.service)}/${String(parsed?.env)}, not ${expected.service}/${expected.env}`,
    );
  if (!isChangeInfo(parsed.change)) return fail('no commit record');
  if (!parsed.files || typeof parsed.files !== 'object' || Array.isArray(parsed.files))
    return fail('no file list');
  const files = new Map<string, Uint8Array>();
  for (const [file, encoded] of Object.entries(parsed.files)) {
    if (typeof encoded !== 'string' || !BASE64.test(encoded)) return fail(`file ${file} is not base64`);
    files.set(file, new Uint8Array(Buffer.from(encoded, 'base64')));
  }
  return {
    ok: true,
    snapshot: { service: expected.service, env: expected.env, change: parsed.change, files },
  };
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function fail(reason: string): CacheDecodeResult {
  return { ok: false, reason };
}
