'use strict';
// The body of the background checkpointer (see checkpointer.ts), run in a worker thread. Plain
// JavaScript, so that the thread needs no TypeScript loader wherever the store runs (tsx, jest).
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);

/** @type {{ file: string, intervalMs: number, busyTimeoutMs: number, report: boolean }} */
const options = workerData;
const db = new Database(options.file);
db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
// At NORMAL a checkpoint syncs the WAL before it copies frames and the database after.
db.pragma('synchronous = NORMAL');

/** With nothing new to copy, the wait doubles up to this, so an idle server is not woken 20 times a second. */
const IDLE_MAX_MS = 1000;

/**
 * Errors after which a later checkpoint may work: another connection holding the lock, and a disk
 * that is full or refuses writes (a quota, a file-size limit). The database file may need to grow
 * to take the frames; until it can, the WAL cannot start over, so the thread must outlive this.
 */
const mayPassLater = (code) => code.startsWith('SQLITE_BUSY') || code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR');

let timer;
let stopping = false;
/** Whether checkpoints are failing for want of space (reported once, and once when they work again). */
let stalled = false;
let delay = options.intervalMs;
let lastLog = -1;

function checkpoint() {
  let result;
  try {
    // PASSIVE copies what it can and never waits for the writers it runs beside.
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    result = { busy: row.busy, log: row.log, checkpointed: row.checkpointed };
    if (stalled) {
      stalled = false;
      parentPort.postMessage({ type: 'resumed' });
    }
  } catch (err) {
    const code = err && typeof err === 'object' ? err.code : undefined;
    if (typeof code !== 'string' || !mayPassLater(code)) throw err;
    if (!code.startsWith('SQLITE_BUSY') && !stalled) {
      stalled = true;
      parentPort.postMessage({ type: 'stalled', code, message: String(err.message) });
    }
    result = { busy: 1, log: -1, checkpointed: -1 };
  }
  if (options.report) parentPort.postMessage({ type: 'checkpointed', ...result });
  // Any change in the WAL's length (it grew, or started over) means commits are coming in. A stalled
  // thread tries again at the idle pace: the disk will not make room within milliseconds.
  delay = stalled ? IDLE_MAX_MS : result.log !== lastLog ? options.intervalMs : Math.min(delay * 2, IDLE_MAX_MS);
  lastLog = result.log;
  if (!stopping) timer = setTimeout(checkpoint, delay);
}

parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  stopping = true;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});

timer = setTimeout(checkpoint, options.intervalMs);
