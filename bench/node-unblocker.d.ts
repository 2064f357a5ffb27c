/** The part of node-unblocker's API the benchmark uses (the package ships no types). */
declare module 'unblocker' {
  import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
  interface UnblockerConfig {
    prefix?: string;
    httpAgent?: Agent;
    httpsAgent?: Agent;
  }
  type Handler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
  const Unblocker: new (config: UnblockerConfig) => Handler;
  export default Unblocker;
}
