import { problemHeaders, toProblem } from '../src/http/error-handler.js';
import { HttpProblem } from '../src/http/problem.js';
import { StorageError } from '../src/storage/errors.js';
import { toStorageError } from '../src/storage/sqlite/sqlite-errors.js';

describe('toProblem', () => {
  it('should answer a path the router cannot percent-decode with 400 naming the path', () => {
    const err = Object.assign(new URIError("Failed to decode param '%ZZ'"), { status: 400, statusCode: 400 });
    expect(toProblem(err, '/api/flows/%ZZ')).toMatchObject({
      status: 400,
      detail: 'A path segment is not valid percent-encoding.',
      errors: [{ field: 'path', message: expect.stringMatching(/percent-encoding/) }],
    });
  });

  it('should not pass a driver\'s words about tables on to the client', () => {
    const sqlite = new StorageError('CONFLICT', 'UNIQUE constraint failed: flows.workspace_id, flows.id');
    expect(toProblem(sqlite, '/api/flows')).toMatchObject({ status: 409, detail: 'A record with this key already exists.' });
    const mongo = new StorageError('CONFLICT', 'E11000 duplicate key error collection: convoflow.flows index: workspaceId_1_id_1');
    expect(toProblem(mongo, '/api/flows')).toMatchObject({ status: 409, detail: 'A record with this key already exists.' });
    const ours = new StorageError('LEASE_LOST', 'Lease k is not held by p');
    expect(toProblem(ours, '/x')).toMatchObject({ status: 409, detail: 'Lease k is not held by p' });
  });

  it('should keep anything else it does not know a 500 that says nothing of the cause', () => {
    const problem = toProblem(new TypeError('x is undefined'), '/api/runs', 'req-1');
    expect(problem).toEqual({
      type: 'https://convoflow.dev/problems/internal',
      title: 'Internal Server Error',
      status: 500,
      detail: 'Something went wrong on our side; the request id identifies it in the logs.',
      instance: '/api/runs',
      requestId: 'req-1',
    });
  });

  it('should answer a full disk with 503 and ask the client to come back, whichever layer noticed it', () => {
    const full = "The server's storage is full, so nothing was written; retry later.";
    const mapped = toProblem(new StorageError('FULL', 'The disk holding the SQLite database is full'), '/api/hooks/a/b/c');
    expect(mapped).toMatchObject({ status: 503, type: 'https://convoflow.dev/problems/unavailable', detail: full });
    const raw = Object.assign(new Error('database or disk is full'), { name: 'SqliteError', code: 'SQLITE_FULL' });
    expect(toProblem(raw, '/x')).toMatchObject({ status: 503, detail: full });
    expect(problemHeaders(raw, toProblem(raw, '/x'))).toEqual({ 'Retry-After': '5' });
  });

  it('should answer a disk that refuses writes (a quota, a file-size limit) with 503 too', () => {
    const refused = "The server's storage refused the write (it may be full), so nothing was written; retry later.";
    const mapped = toProblem(toStorageError(Object.assign(new Error('disk I/O error'), { name: 'SqliteError', code: 'SQLITE_IOERR_WRITE' })), '/api/flows');
    expect(mapped).toMatchObject({ status: 503, detail: refused });
    const raw = Object.assign(new Error('disk I/O error'), { name: 'SqliteError', code: 'SQLITE_IOERR_FSYNC' });
    expect(toProblem(raw, '/x')).toMatchObject({ status: 503, detail: refused });
    expect(problemHeaders(raw, toProblem(raw, '/x'))).toEqual({ 'Retry-After': '5' });
  });

  it('should answer a damaged database with 503, saying nothing of the file', () => {
    const damaged = new StorageError('CORRUPT', 'The SQLite database /srv/data/convoflow.db is not an SQLite database, or is damaged');
    expect(toProblem(damaged, '/api/flows')).toMatchObject({ status: 503, detail: 'The store is unavailable; retry shortly.' });
  });
});

describe('problemHeaders', () => {
  it('should keep an HttpProblem\'s own headers and add none to other 4xx and 5xx', () => {
    const limited = new HttpProblem(429, 'rate-limited', 'Slow down.', { headers: { 'Retry-After': '60' } });
    expect(problemHeaders(limited, limited.toDocument('/x'))).toEqual({ 'Retry-After': '60' });
    const crash = new TypeError('x is undefined');
    expect(problemHeaders(crash, toProblem(crash, '/x'))).toBeUndefined();
    const busy = new StorageError('BUSY', 'locked');
    expect(problemHeaders(busy, toProblem(busy, '/x'))).toEqual({ 'Retry-After': '5' });
  });
});
