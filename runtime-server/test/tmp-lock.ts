import { createSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
const s = createSqliteStore({ file: '/tmp/lk.db' });
await s.migrate();
console.log(s.db.pragma('busy_timeout', { simple: true }));
await s.close();
