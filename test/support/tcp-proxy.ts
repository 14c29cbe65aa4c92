import { connect, createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder } from '../../core/zookeeper/protocol/frame-decoder.js';

/** Something to do to the server's answers, once, at the next packet on each open connection. */
export type ProxyFault =
  /** Pass on the first `bytes` of the next packet (length prefix included), then end the connection. */
  | { readonly kind: 'truncate'; readonly bytes: number }
  /** Pass on the first `bytes` of the next packet of at least `minPacketBytes`, then reset the connection. */
  | { readonly kind: 'cut'; readonly bytes: number; readonly minPacketBytes: number }
  /** Write `bytes` before the next packet, and carry on. */
  | { readonly kind: 'garbage'; readonly bytes: Buffer };

/**
 * A TCP proxy in front of a ZooKeeper server, to do to a client what networks and servers do
 * without touching the server: `partition()` drops every connection and refuses new ones until
 * `heal()` (the server sees a silent client and expires its session after the session timeout,
 * which is how a session expires for real: a client cannot expire its own session, and learns of
 * the expiry only when it reconnects); `silence()` keeps connections open and answers nothing, like
 * a server that accepts and hangs; `answerHandshakesOnly()` lets each connection's handshake through
 * and then answers nothing, like a server that takes sessions and hangs on every request;
 * `fault()` truncates, cuts or corrupts the server's answers.
 * The server's answers pass packet by packet, so faults land at packet boundaries.
 */
export interface TcpProxy {
  /** `127.0.0.1:<port>`: give this to the client instead of the server's own address. */
  readonly connectString: string;
  partition(): void;
  silence(): void;
  answerHandshakesOnly(): void;
  heal(): void;
  fault(fault: ProxyFault): void;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket | undefined;
  fault: ProxyFault | undefined;
  /** Packets the server sent through this connection so far (the first answers the handshake). */
  answered: number;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let mode: 'open' | 'cut' | 'silent' | 'handshakes' = 'open';
  let connections = 0;
  const server: Server = createServer((client) => {
    connections++;
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    client.on('error', () => client.destroy());
    if (mode === 'silent') {
      const pair: Pair = { client, upstream: undefined, fault: undefined, answered: 0 };
      pairs.add(pair);
      client.on('close', () => pairs.delete(pair));
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, fault: undefined, answered: 0 };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (mode === 'open' || mode === 'handshakes') upstream.write(chunk);
    });
    const answers = new FrameDecoder();
    upstream.on('data', (chunk: Buffer) => {
      if (mode !== 'open' && mode !== 'handshakes') return;
      for (const body of answers.push(chunk)) {
        pair.answered++;
        if (mode === 'handshakes' && pair.answered > 1) continue;
        const packet = Buffer.concat([lengthPrefix(body.length), body]);
        const fault = pair.fault;
        if (fault?.kind === 'garbage') {
          pair.fault = undefined;
          client.write(fault.bytes);
        } else if (fault?.kind === 'truncate') {
          pair.fault = undefined;
          client.end(packet.subarray(0, fault.bytes));
          upstream.destroy();
          return;
        } else if (fault?.kind === 'cut' && packet.length >= fault.minPacketBytes) {
          pair.fault = undefined;
          client.write(packet.subarray(0, fault.bytes), () => end());
          upstream.pause();
          return;
        }
        client.write(packet);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no TCP address');
  const dropAll = () => {
    for (const pair of pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    pairs.clear();
  };
  return {
    connectString: `127.0.0.1:${address.port}`,
    get connections() {
      return connections;
    },
    partition() {
      mode = 'cut';
      dropAll();
    },
    silence() {
      mode = 'silent';
    },
    answerHandshakesOnly() {
      mode = 'handshakes';
    },
    heal() {
      // Connections that were silenced lost bytes: end them, so that clients start afresh.
      if (mode === 'silent' || mode === 'handshakes') dropAll();
      mode = 'open';
    },
    fault(fault) {
      for (const pair of pairs) pair.fault = fault;
    },
    async close() {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(length, 0);
  return prefix;
}
