/**
 * (u) node-unblocker (npm `unblocker`, pinned in package.json) with its default middleware, as its own
 * process: `node --import tsx bench/unblocker.ts --upstream http://127.0.0.1:9000 [--port N]`.
 * Clients ask for `/proxy/http://www.epochtimes.com/…` as they would on a real deployment; its outgoing
 * HTTP agent connects every origin host to the bench origin on loopback instead of resolving the name
 * (the Host header stays the origin's, which is what the bench origin routes on). Keep-alive to the
 * origin like the other servers. Prints one JSON line when listening.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import Unblocker from 'unblocker';

const { values } = parseArgs({ options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' } } });
if (!values.upstream) {
  console.error('usage: unblocker.ts --upstream http://127.0.0.1:PORT [--port N]');
  process.exit(2);
}
const upstream = new URL(values.upstream);

/** Every connection goes to the bench origin, whatever host the proxied URL names. */
class LoopbackAgent extends http.Agent {
  override createConnection(): net.Socket {
    return net.connect({ host: upstream.hostname, port: Number(upstream.port), noDelay: true });
  }
}
const httpAgent = new LoopbackAgent({ keepAlive: true, maxSockets: 256 });

const unblocker = new Unblocker({ prefix: '/proxy/', httpAgent });

const server = http.createServer({ noDelay: true }, (req, res) => {
  unblocker(req, res, () => {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  });
});

server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ event: 'listening', port }) + '\n');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
