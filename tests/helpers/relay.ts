import net from 'node:net';

/** A TCP relay in front of the test origin that counts what the origin sends and when its connections close. */
export interface Relay {
  port: number;
  url: string;
  /** Bytes the origin has sent through the relay. */
  readonly bytesFromOrigin: number;
  /** Origin connections that have closed. */
  readonly closed: number;
  close(): Promise<void>;
}

export async function startRelay(originPort: number): Promise<Relay> {
  let bytesFromOrigin = 0;
  let closed = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(originPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    upstream.on('data', (d: Buffer) => (bytesFromOrigin += d.length));
    client.pipe(upstream).pipe(client);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      closed++;
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get bytesFromOrigin() {
      return bytesFromOrigin;
    },
    get closed() {
      return closed;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
