import mongoose from 'mongoose';
import { toMongoStorageError } from '../src/storage/mongoose/mongo-store.js';
import { isTransientStorageError } from '../src/storage/errors.js';

// The driver's own error classes, built from the reply documents a replica set sends (errmsg, code,
// codeName, errorLabels), as the driver builds them: no server is needed to check the mapping.
const { MongoServerError, MongoWriteConcernError, MongoNetworkError } = mongoose.mongo;
const reply = (code: number, codeName: string, errorLabels: string[] = []) => ({ ok: 0, errmsg: `${codeName} (test)`, code, codeName, errorLabels });

describe('toMongoStorageError', () => {
  it.each([
    [10107, 'NotWritablePrimary'],
    [189, 'PrimarySteppedDown'],
    [91, 'ShutdownInProgress'],
    [11600, 'InterruptedAtShutdown'],
    [11602, 'InterruptedDueToReplStateChange'],
    [13436, 'NotPrimaryOrSecondary'],
  ])('should make a failover answer (%i %s) UNAVAILABLE, which is retried', (code, codeName) => {
    const mapped = toMongoStorageError(new MongoServerError(reply(code, codeName)));
    expect(mapped).toMatchObject({ name: 'StorageError', code: 'UNAVAILABLE', message: `${codeName} (test)` });
    expect(isTransientStorageError(mapped)).toBe(true);
  });

  it('should make an operation labelled retryable, or a transaction aborted as transient, UNAVAILABLE', () => {
    expect(toMongoStorageError(new MongoServerError(reply(112, 'WriteConflict', ['TransientTransactionError'])))).toMatchObject({ code: 'UNAVAILABLE' });
    expect(toMongoStorageError(new MongoServerError(reply(50, 'MaxTimeMSExpired', ['RetryableWriteError'])))).toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('should read a write-concern error by its own code', () => {
    const concern = new MongoWriteConcernError({ writeConcernError: { code: 91, codeName: 'ShutdownInProgress', errmsg: 'shutting down' } } as never);
    expect(toMongoStorageError(concern)).toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('should map a lost connection, a duplicate key and a full disk, and leave everything else alone', () => {
    expect(toMongoStorageError(new MongoNetworkError('connection reset'))).toMatchObject({ code: 'UNAVAILABLE' });
    expect(toMongoStorageError(new MongoServerError(reply(11000, 'DuplicateKey')))).toMatchObject({ code: 'CONFLICT' });
    expect(toMongoStorageError(new MongoServerError(reply(14031, 'OutOfDiskSpace')))).toMatchObject({ code: 'FULL' });
    // A commit whose outcome is unknown may have happened: not something to redo blindly.
    const unknown = new MongoServerError(reply(50, 'MaxTimeMSExpired', ['UnknownTransactionCommitResult']));
    expect(toMongoStorageError(unknown)).toBe(unknown);
    const bad = new MongoServerError(reply(2, 'BadValue'));
    expect(toMongoStorageError(bad)).toBe(bad);
  });
});
