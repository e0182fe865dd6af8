import { createServer, type Server } from 'node:net';
import { describeStartFailure } from '../src/start-failure.js';
import { StorageError } from '../src/storage/errors.js';

/** The error Node gives a server that cannot listen at `host:port`. */
async function listenError(host: string, port: number): Promise<Error> {
  const server: Server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', resolve);
    server.listen(port, host, () => server.close(() => reject(new Error(`listening on ${host}:${port} worked`))));
  });
}

describe('describeStartFailure', () => {
  it('should say a port is taken, and what to change', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    const { port } = taken.address() as { port: number };
    try {
      expect(describeStartFailure(await listenError('127.0.0.1', port), false)).toBe(
        `127.0.0.1:${port} is already in use: stop what listens there, or set PORT to another port`,
      );
    } finally {
      taken.close();
    }
  });

  it('should say a HOST is not an address of this machine', async () => {
    // 192.0.2.0/24 is reserved for documentation: never an address of this machine. Nothing is sent.
    expect(describeStartFailure(await listenError('192.0.2.1', 0), false)).toBe(
      '192.0.2.1 is not an address of this machine: set HOST to one (127.0.0.1, or 0.0.0.0 for every interface)',
    );
  });

  it('should say a privileged port is not allowed', () => {
    const denied = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES', syscall: 'listen', address: '0.0.0.0', port: 80 });
    expect(describeStartFailure(denied, false)).toBe('this process may not listen on 0.0.0.0:80: set PORT above 1023');
  });

  it('should hint at DATA_DIR for SQLite store errors only, and keep the stack of anything else', () => {
    const unopened = new StorageError('UNAVAILABLE', 'The SQLite database /d/convoflow.db cannot be opened: EACCES');
    expect(describeStartFailure(unopened, false)).toBe(`${unopened.message} (DATA_DIR must name a directory this process can write)`);
    expect(describeStartFailure(unopened, true)).toBe(unopened.message);
    const full = new StorageError('FULL', 'The disk holding the SQLite database is full: database or disk is full');
    expect(describeStartFailure(full, false)).toBe(`${full.message}: free space on that disk, or set DATA_DIR to a directory on another one`);
    const bug = new TypeError('x is undefined');
    expect(describeStartFailure(bug, false)).toBe(bug.stack);
  });
});
