import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago; another process may take it before it is
 * used. Where a server can pick its own port and say which it got (a service with `PORT=0` logs
 * it, nats-server with `-p -1` writes it to its ports file), let it; this is for ports that only
 * need to refuse connections.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function portAccepts(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
