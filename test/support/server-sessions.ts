import { fourLetterWord } from '../harness/index.js';

/**
 * The last request id (`lcxid`) of every session connected to a ZooKeeper server, from its `cons`
 * answer, by session id (hex, as ZkSession.sessionId gives it). Pings carry no request id, so a
 * session whose lcxid did not move between two looks sent no request at all: the server's own word
 * that a client read nothing.
 */
export async function lastRequestIds(port: number): Promise<Map<string, bigint>> {
  const answer = await fourLetterWord(port, 'cons');
  const sessions = new Map<string, bigint>();
  for (const line of answer.split('\n')) {
    const sid = /sid=0x([0-9a-f]+)/.exec(line)?.[1];
    const lcxid = /lcxid=0x([0-9a-f]+)/.exec(line)?.[1];
    if (sid && lcxid) sessions.set(normalise(sid), BigInt(`0x${lcxid}`));
  }
  return sessions;
}

/** The paths each session watches, from the server's `wchc` answer, by session id. */
export async function watchesBySession(port: number): Promise<Map<string, string[]>> {
  const answer = await fourLetterWord(port, 'wchc');
  const watches = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of answer.split('\n')) {
    const sid = /^0x([0-9a-f]+)\s*$/.exec(line)?.[1];
    if (sid) {
      current = [];
      watches.set(normalise(sid), current);
    } else if (line.startsWith('\t') && current) current.push(line.trim());
  }
  return watches;
}

/** Session ids as hex without leading zeros, whichever side printed them. */
export function normalise(sessionId: string): string {
  return BigInt(`0x${sessionId}`).toString(16);
}
