/**
 * A TCP proxy the test controls, between Latchkey and PostgreSQL: `cut()` drops every
 * connection and refuses new ones (PostgreSQL is "down" for this client only, the shared server
 * keeps running for other tests); `restore()` accepts again on the same port.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A controllable proxy to one upstream address. */
export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones. */
  cut(): Promise<void>;
  /** Accepts connections again. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port) to `host:port`. */
export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let listenPort = 0;

  const listen = async () => {
    const s = createServer((client) => {
      const upstream = connect(port, host);
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(listenPort, '127.0.0.1', () => resolve());
    });
    const address = s.address();
    if (typeof address === 'object' && address !== null) listenPort = address.port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    port: listenPort,
    cut: stop,
    restore: listen,
    close: stop,
  };
}
