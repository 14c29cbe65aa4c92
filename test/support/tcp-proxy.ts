import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a ZooKeeper server, to cut a client off the network without touching the
 * server: `partition()` drops every connection and refuses new ones until `heal()`. The server sees
 * a silent client and expires its session after the session timeout, which is how a session expires
 * for real (a client cannot expire its own session, and learns of the expiry only when it reconnects).
 */
export interface TcpProxy {
  /** `127.0.0.1:<port>`: give this to the client instead of the server's own address. */
  readonly connectString: string;
  partition(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        // The other side's close tears this one down too; nothing to report.
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no TCP address');
  return {
    connectString: `127.0.0.1:${address.port}`,
    partition() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    heal() {
      cut = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
