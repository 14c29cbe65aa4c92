import git from 'isomorphic-git';
import { withProgressDeadline } from './deadline.js';
import { GitUnreachableError } from './errors.js';
import type { ObjectStore } from './object-store.js';
import { packSink } from './pack-sink.js';
import { FLUSH, type Packet, PktLineError, pktLine, readPackets } from './pkt-line.js';
import type { RefAdvertisement } from './ref-advertisement.js';
import type { Remote } from './remote.js';

/** What one fetch asks for: an object (a commit, a tag, a notes commit) and what the store has. */
export interface PackRequest {
  readonly want: string;
  /** A commit the store holds with its history, offered so the server sends only what is new. */
  readonly have?: string | undefined;
}

/**
 * Capabilities asked for when offered. No `multi_ack`: one request with `done` (smart HTTP is
 * stateless) needs no more than the server's single ACK or NAK. No `thin-pack`: a small pack is
 * indexed by isomorphic-git, which would keep it thin, and git reads no pack whose deltas lean on
 * objects outside it.
 */
const WANTED_CAPABILITIES = ['side-band-64k', 'ofs-delta'];
const AGENT = 'agent=cairn';

/**
 * Fetches `request.want` with its history in one `upload-pack` request (protocol v1, answered
 * against `advertisement`). A large pack streams into `git index-pack` as it arrives, so the event
 * loop only moves its bytes; a commit's few objects are indexed in memory (see pack-sink.ts). The
 * deadline is on progress: the transfer fails when the server stays silent for `timeoutMs`, not when
 * a large pack takes longer; the indexing that follows is local work, under no deadline.
 * Failures carry isomorphic-git's codes (`HttpError`, `SmartHttpError`, `ParseError`, …), translated
 * by the caller as those of the listing are; a server's refusal is a GitUnreachableError.
 */
export async function fetchPack(
  store: ObjectStore,
  remote: Remote,
  request: PackRequest,
  timeoutMs: number,
  advertisement: RefAdvertisement,
): Promise<void> {
  const { display } = store;
  const writer = packSink(store);
  // The deadline fails the fetch at once, while the request's own failure (the abort) may still be
  // on its way: what the pack left is removed before the fetch fails either way.
  await withProgressDeadline(
    timeoutMs,
    async ({ signal, progressed }) => {
      try {
        const { url, authorization } = splitCredentials(remote.url);
        const response = await advertisement.http(signal).request({
          method: 'POST',
          url: `${url}/git-upload-pack`,
          headers: {
            'content-type': 'application/x-git-upload-pack-request',
            accept: 'application/x-git-upload-pack-result',
            ...(authorization ? { authorization } : {}),
          },
          // An array, which the node client sends with a Content-Length (some servers want one), as
          // isomorphic-git's own fetch does; its type names only the streamed form.
          body: [
            Buffer.from(uploadPackRequest(request, advertisement.capabilities)),
          ] as unknown as AsyncIterableIterator<Uint8Array>,
        });
        progressed();
        if (response.statusCode !== 200) {
          throw new git.Errors.HttpError(response.statusCode, response.statusMessage, '');
        }
        const type = response.headers?.['content-type'] ?? '';
        if (!type.startsWith('application/x-git-upload-pack-result') || !response.body) {
          throw new git.Errors.SmartHttpError(type, '');
        }
        await receivePack(readPackets(observed(response.body, progressed)), writer.write, display);
      } catch (error) {
        await writer.abandon();
        throw error;
      }
    },
    () => new GitUnreachableError(display, `nothing received for ${timeoutMs} ms`),
  ).catch(async (error: unknown) => {
    await writer.abandon();
    throw error;
  });
  await writer.finish();
}

/** The request: one want with the capabilities, a flush, the have, `done`. */
export function uploadPackRequest(request: PackRequest, offered: ReadonlySet<string>): string {
  const capabilities = [...WANTED_CAPABILITIES.filter((name) => offered.has(name)), AGENT];
  return [
    pktLine(`want ${request.want} ${capabilities.join(' ')}\n`),
    FLUSH,
    request.have === undefined ? '' : pktLine(`have ${request.have}\n`),
    pktLine('done\n'),
  ].join('');
}

/**
 * Reads the answer: the server's ACK or NAK, then the pack on side-band 1 (progress on band 2, an
 * error on band 3), ended by a flush. Each slice of the pack goes to `write` as it arrives.
 */
async function receivePack(
  packets: AsyncGenerator<Packet>,
  write: (bytes: Uint8Array) => Promise<void>,
  display: string,
): Promise<void> {
  for (;;) {
    const { value, done } = await packets.next();
    if (done) throw new PktLineError('the answer ended before the pack');
    if (value === null) continue;
    const line = value.toString('utf8').trimEnd();
    if (line.startsWith('ERR ')) throw refused(display, line.slice(4));
    if (line === 'NAK' || /^ACK [0-9a-f]{40}$/.test(line)) break;
    if (!/^(ACK|shallow|unshallow) /.test(line))
      throw new PktLineError(`expected ACK or NAK, read ${JSON.stringify(line.slice(0, 80))}`);
  }
  for await (const packet of packets) {
    if (packet === null) return;
    const band = packet[0];
    if (band === 1) await write(packet.subarray(1));
    else if (band === 3) throw refused(display, packet.toString('utf8', 1).trim());
    else if (band !== 2) throw new PktLineError(`a packet on side-band ${band}`);
  }
  throw new PktLineError('the answer ended before its closing flush');
}

function refused(display: string, message: string): GitUnreachableError {
  return new GitUnreachableError(display, `the server refused the fetch: ${message}`);
}

/**
 * The body's chunks, each one counted as progress. Iterated by hand: the node client's iterator
 * answers `return()` (which a `for await` left early calls) with no result object, which throws;
 * called here only to close a body left unread.
 */
async function* observed(
  body: AsyncIterable<Uint8Array>,
  progressed: () => void,
): AsyncGenerator<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]();
  let ended = false;
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        return;
      }
      progressed();
      yield next.value;
    }
  } finally {
    if (!ended) void Promise.resolve(chunks.return?.()).catch(() => undefined);
  }
}

/**
 * The URL without its `user:password@` part, and those credentials as a Basic header, as
 * isomorphic-git sends them (credentials the listing was let in with take their place).
 */
function splitCredentials(url: string): { url: string; authorization?: string } {
  const match = /^(https?:\/\/)([^/@]*)@/i.exec(url);
  if (!match) return { url: url.replace(/\/+$/, '') };
  const userinfo = match[2] ?? '';
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? '' : decodeURIComponent(userinfo.slice(colon + 1));
  return {
    url: `${match[1]}${url.slice(match[0].length)}`.replace(/\/+$/, ''),
    authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
  };
}
