import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldRemote {
  url: string;
  /** Resolves when the first request arrives. */
  called: Promise<void>;
  /** Answers the requests held so far, and every later one at once. */
  release(): void;
  /** Requests received so far. */
  calls(): number;
  close(): Promise<void>;
}

/** A remote system that holds its answers (`body`, as JSON) until told to give them. */
export async function startHeldRemote(body: string): Promise<HeldRemote> {
  const held: ServerResponse[] = [];
  let released = false;
  let calls = 0;
  let arrived!: () => void;
  const called = new Promise<void>((resolve) => (arrived = resolve));
  const answer = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  const server: Server = createServer((req: IncomingMessage, res) => {
    req.resume();
    calls += 1;
    arrived();
    if (released) answer(res);
    else held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    called,
    release() {
      released = true;
      for (const res of held.splice(0)) answer(res);
    },
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
