import type Database from 'better-sqlite3';

/** One schema change, applied once, in its own transaction. @internal */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, as an append-only list: never edit a migration that has shipped, add the next one.
 *
 * JSON columns are TEXT. Every query of the store has an index; partial indexes keep the hot ones
 * (pending journal entries, due outbox entries, active runs) small however much history is kept.
 * @internal
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  settings TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX api_keys_by_workspace ON api_keys(workspace_id, created_at);

CREATE TABLE flows (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  draft TEXT NOT NULL,
  revision INTEGER NOT NULL,
  active_version INTEGER,
  latest_version INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;
CREATE INDEX flows_active ON flows(workspace_id) WHERE active_version IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE flow_versions (
  workspace_id TEXT NOT NULL,
  flow_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  definition TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  published_by TEXT NOT NULL,
  PRIMARY KEY (workspace_id, flow_id, version),
  FOREIGN KEY (workspace_id, flow_id) REFERENCES flows(workspace_id, id)
) WITHOUT ROWID;

CREATE TABLE contacts (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  fields TEXT NOT NULL,
  identities TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX contacts_page ON contacts(workspace_id, created_at, id);

CREATE TABLE contact_identities (
  workspace_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  external_id TEXT NOT NULL,
  contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  PRIMARY KEY (workspace_id, channel, external_id)
) WITHOUT ROWID;
CREATE INDEX contact_identities_by_contact ON contact_identities(contact_id);

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  flow_id TEXT NOT NULL,
  flow_version INTEGER NOT NULL,
  contact_id TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  channel TEXT,
  status TEXT NOT NULL,
  waiting TEXT,
  snapshot TEXT NOT NULL,
  step_count INTEGER NOT NULL,
  error TEXT,
  failed_node_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ended_at INTEGER,
  logs_pruned INTEGER NOT NULL DEFAULT 0
);
-- Runs are inserted once and updated at every step: only status is indexed among the columns a
-- step changes. A contact has few runs, so one index by contact serves both the contact filter and
-- the active runs of a contact.
CREATE INDEX runs_page ON runs(workspace_id, created_at, id);
CREATE INDEX runs_by_status ON runs(workspace_id, status, created_at, id);
CREATE INDEX runs_by_flow ON runs(workspace_id, flow_id, created_at, id);
CREATE INDEX runs_by_contact ON runs(workspace_id, contact_id, created_at, id);
CREATE INDEX runs_ended ON runs(ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX runs_logs_prunable ON runs(ended_at) WHERE ended_at IS NOT NULL AND logs_pruned = 0;

CREATE TABLE step_log (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step_no INTEGER NOT NULL,
  workspace_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  path TEXT NOT NULL,
  effects TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT,
  PRIMARY KEY (run_id, step_no)
) WITHOUT ROWID;

CREATE TABLE journal (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  workspace_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  ordering_key TEXT NOT NULL,
  payload TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  processed_at INTEGER,
  error TEXT,
  UNIQUE (workspace_id, dedupe_key)
);
CREATE INDEX journal_pending ON journal(ordering_key, seq) WHERE status = 'pending';
CREATE INDEX journal_finished ON journal(processed_at) WHERE status <> 'pending';

CREATE TABLE outbox (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  workspace_id TEXT NOT NULL,
  effect TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  available_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  created_at INTEGER NOT NULL,
  completed_at INTEGER,
  result TEXT,
  last_error TEXT,
  UNIQUE (run_id, seq)
);
CREATE INDEX outbox_due ON outbox(available_at) WHERE status = 'pending';
CREATE INDEX outbox_finished ON outbox(completed_at) WHERE status <> 'pending';

CREATE TABLE leases (
  key TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  until INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  direction TEXT NOT NULL,
  message TEXT NOT NULL,
  run_id TEXT,
  node_id TEXT,
  idempotency_key TEXT NOT NULL,
  at INTEGER NOT NULL,
  UNIQUE (workspace_id, idempotency_key)
);
CREATE INDEX messages_by_contact ON messages(workspace_id, contact_id, seq);
`,
  },
  {
    version: 2,
    name: 'pending journal entries in arrival order',
    // Finding each contact's oldest pending entry grouped the whole pending index per tick: 29 ms
    // with 100,000 pending. In arrival order the first rows are the heads a tick needs.
    sql: `CREATE INDEX journal_pending_seq ON journal(seq, ordering_key) WHERE status = 'pending';`,
  },
  {
    version: 3,
    name: 'active runs of a contact',
    // Every message looks up its contact's active runs. Through runs_by_contact that walked every
    // run the contact ever had: a chatty contact's history made each of its messages slower.
    sql: `CREATE INDEX runs_active_by_contact ON runs(workspace_id, contact_id, created_at, id)
      WHERE status IN ('running', 'waiting');`,
  },
  {
    version: 4,
    name: 'due effects by type',
    // The runtime claims each kind of effect for its own slots (timers, sends, node calls). With
    // only outbox_due, a claim of timers would walk past every due HTTP call queued before them.
    sql: `CREATE INDEX outbox_due_by_type ON outbox(json_extract(effect, '$.type'), available_at) WHERE status = 'pending';`,
  },
  {
    version: 5,
    name: 'active flows in order',
    // The trigger router checks every second which versions are active. Each flow's draft spills
    // onto overflow pages that had to be walked to reach active_version behind it: 20 ms with
    // 1,000 flows. This index answers from itself, in the order wanted; it replaces flows_active.
    sql: `CREATE INDEX flows_active_in_order ON flows(workspace_id, created_at, id, active_version, deleted_at)
      WHERE active_version IS NOT NULL AND deleted_at IS NULL;
      DROP INDEX flows_active;`,
  },
  {
    version: 6,
    name: 'runs of a flow by status',
    // "Failed runs of this flow" walked runs_by_flow past every other run of the flow, or
    // runs_by_status past every failed run of other flows, whichever the planner guessed (this file
    // has no statistics): 350 ms for a page with 1,000,000 runs, holding the event loop.
    sql: `CREATE INDEX runs_by_flow_status ON runs(workspace_id, flow_id, status, created_at, id);`,
  },
  {
    version: 7,
    name: 'versions of a flow without their definitions',
    // Listing a flow's versions read every definition: published_at and published_by are stored
    // behind it, on its overflow pages. This index holds what the list shows.
    sql: `CREATE INDEX flow_versions_listed ON flow_versions(workspace_id, flow_id, version, published_at, published_by);`,
  },
  {
    version: 8,
    name: 'flows without their drafts',
    // The same for the list of flows: everything it shows but the draft, in its order.
    sql: `CREATE INDEX flows_listed ON flows(workspace_id, created_at, id, name, revision, active_version, latest_version, updated_at, deleted_at)
      WHERE deleted_at IS NULL;`,
  },
  {
    version: 9,
    name: 'pending journal entries by workspace',
    // Workspaces take turns at the journal: a backlog in one must not hold up the others. Each is
    // read in arrival order through this index, which takes over from journal_pending_seq.
    sql: `CREATE INDEX journal_pending_by_workspace ON journal(workspace_id, seq, ordering_key) WHERE status = 'pending';
      DROP INDEX journal_pending_seq;`,
  },
  {
    version: 10,
    name: 'due effects by type and workspace',
    // Workspaces take turns at the outbox too: a broadcast's sends, or calls to a slow remote, in one
    // workspace must not hold up another's. Each workspace's due effects of a type are read in due
    // order through this index, which takes over from outbox_due_by_type.
    sql: `CREATE INDEX outbox_due_by_workspace ON outbox(json_extract(effect, '$.type'), workspace_id, available_at) WHERE status = 'pending';
      DROP INDEX outbox_due_by_type;`,
  },
];

/**
 * Applies the migrations the database has not seen yet, each in its own IMMEDIATE transaction, and
 * records them in `schema_migrations`. Idempotent: safe at every start, and safe when several
 * processes start on one file at once (the version check happens inside the write lock).
 * @internal
 */
export function applyMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const isApplied = db.prepare<[number], { version: number }>('SELECT version FROM schema_migrations WHERE version = ?');
  const record = db.prepare<[number, string, number]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    const apply = db.transaction(() => {
      if (isApplied.get(migration.version)) return false;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
      return true;
    });
    if (apply.immediate()) applied.push(migration.version);
  }
  return applied;
}
