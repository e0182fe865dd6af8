import type Database from 'better-sqlite3';
import type {
  ApiKeyRow,
  ContactRow,
  FlowRow,
  FlowVersionRow,
  JournalRow,
  MessageRow,
  OutboxRow,
  RunRow,
  StepLogRow,
  WorkspaceRow,
} from './rows.js';
import type { StoredMessageRef } from '../storage-port.js';
import { limitBy } from '../../support/sqlite-limit.js';

type Db = Database.Database;

/** Every column of runs but the snapshot. */
const RUN_SUMMARY_COLUMNS =
  'id, workspace_id, flow_id, flow_version, contact_id, trigger_id, channel, status, waiting, step_count, error, failed_node_id, created_at, updated_at, ended_at, logs_pruned';

/**
 * The query of a page of runs for the filters given (equality on each, then before the cursor),
 * newest first: its SQL, which depends only on which filters are set, and its parameters. Every
 * combination without a contact has an index that constrains all its filters, and a contact's
 * runs are read through the contact's index, so a page costs the same whatever the number of runs.
 * @internal
 */
export function runPageQuery(
  workspaceId: string,
  filter: { flowId?: string; contactId?: string; status?: string },
  after: { createdAt: number; id: string } | undefined,
  limit: number,
): { sql: string; params: unknown[] } {
  const where = ['workspace_id = ?'];
  const params: unknown[] = [workspaceId];
  if (filter.flowId !== undefined) (where.push('flow_id = ?'), params.push(filter.flowId));
  if (filter.contactId !== undefined) (where.push('contact_id = ?'), params.push(filter.contactId));
  if (filter.status !== undefined) (where.push('status = ?'), params.push(filter.status));
  if (after !== undefined) (where.push('(created_at, id) < (?, ?)'), params.push(after.createdAt, after.id));
  params.push(limit);
  // A contact's runs are few: read them all rather than a flow's or a status's, which may be many.
  const from = filter.contactId === undefined ? 'runs' : 'runs INDEXED BY runs_by_contact';
  return { sql: `SELECT ${RUN_SUMMARY_COLUMNS} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC ${limitBy()}`, params };
}

/**
 * Every fixed statement of the store, prepared once per connection (after `migrate()` has created
 * the tables). Statements bind positional parameters: cheaper than named ones on the hot path.
 * @internal
 */
export function prepareStatements(db: Db) {
  return {
    insertWorkspace: db.prepare<[string, string, number, string]>(
      'INSERT INTO workspaces (id, name, created_at, settings) VALUES (?, ?, ?, ?)',
    ),
    getWorkspace: db.prepare<[string], WorkspaceRow>('SELECT * FROM workspaces WHERE id = ?'),
    listWorkspaces: db.prepare<[], WorkspaceRow>('SELECT * FROM workspaces ORDER BY created_at, id'),
    setWorkspaceSettings: db.prepare<[string, string]>('UPDATE workspaces SET settings = ? WHERE id = ?'),

    insertApiKey: db.prepare<[string, string, string, string, string, string, number, number | null]>(
      `INSERT INTO api_keys (id, workspace_id, name, role, key_hash, prefix, created_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    apiKeyByHash: db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = ?'),
    listApiKeys: db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY created_at, id'),
    activeApiKey: db.prepare<[string, string], { role: string }>('SELECT role FROM api_keys WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL'),
    // One statement, so no other revocation can slip between the count and the write.
    revokeApiKey: db.prepare<[number, string, string, string]>(
      `UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL
         AND (role <> 'admin' OR (SELECT COUNT(*) FROM api_keys WHERE workspace_id = ? AND role = 'admin' AND revoked_at IS NULL) > 1)`,
    ),

    insertFlow: db.prepare<[string, string, string, string, number, number]>(
      `INSERT INTO flows (workspace_id, id, name, draft, revision, latest_version, created_at, updated_at)
       VALUES (?, ?, ?, ?, 1, 0, ?, ?)`,
    ),
    getFlow: db.prepare<[string, string], FlowRow>(
      'SELECT * FROM flows WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL',
    ),
    listFlows: db.prepare<[string], Omit<FlowRow, 'draft'>>(
      `SELECT workspace_id, id, name, revision, active_version, latest_version, created_at, updated_at, deleted_at FROM flows
       WHERE workspace_id = ? AND deleted_at IS NULL ORDER BY created_at, id`,
    ),
    updateDraft: db.prepare<[string, string, number, string, string, number], FlowRow>(
      `UPDATE flows SET draft = ?, name = ?, revision = revision + 1, updated_at = ?
       WHERE workspace_id = ? AND id = ? AND revision = ? AND deleted_at IS NULL
       RETURNING *`,
    ),
    deleteFlow: db.prepare<[number, number, string, string]>(
      'UPDATE flows SET deleted_at = ?, updated_at = ? WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL',
    ),
    insertVersion: db.prepare<[string, string, number, string, number, string]>(
      `INSERT INTO flow_versions (workspace_id, flow_id, version, definition, published_at, published_by)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    setPublished: db.prepare<[number, number, number, string, string]>(
      'UPDATE flows SET active_version = ?, latest_version = ?, updated_at = ? WHERE workspace_id = ? AND id = ?',
    ),
    listVersions: db.prepare<[string, string], Omit<FlowVersionRow, 'definition'>>(
      `SELECT workspace_id, flow_id, version, published_at, published_by FROM flow_versions
       WHERE workspace_id = ? AND flow_id = ? ORDER BY version`,
    ),
    getVersion: db.prepare<[string, string, number], FlowVersionRow>(
      'SELECT * FROM flow_versions WHERE workspace_id = ? AND flow_id = ? AND version = ?',
    ),
    activate: db.prepare<[number, number, string, string, number], FlowRow>(
      `UPDATE flows SET active_version = ?, updated_at = ?
       WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL
         AND EXISTS (SELECT 1 FROM flow_versions v
                     WHERE v.workspace_id = flows.workspace_id AND v.flow_id = flows.id AND v.version = ?)
       RETURNING *`,
    ),
    listActiveAll: db.prepare<[], FlowVersionRow>(
      `SELECT v.* FROM flows f
       JOIN flow_versions v ON v.workspace_id = f.workspace_id AND v.flow_id = f.id AND v.version = f.active_version
       WHERE f.active_version IS NOT NULL AND f.deleted_at IS NULL
       ORDER BY f.workspace_id, f.created_at, f.id`,
    ),
    listActiveIn: db.prepare<[string], FlowVersionRow>(
      `SELECT v.* FROM flows f
       JOIN flow_versions v ON v.workspace_id = f.workspace_id AND v.flow_id = f.id AND v.version = f.active_version
       WHERE f.workspace_id = ? AND f.active_version IS NOT NULL AND f.deleted_at IS NULL
       ORDER BY f.created_at, f.id`,
    ),
    // No join with flow_versions as listActive has: versions are never deleted and `activate`
    // checks one exists. Looking each up read its whole definition (20 ms for 1,000 flows).
    listActiveIdsIn: db.prepare<[string], { flow_id: string; version: number }>(
      `SELECT id AS flow_id, active_version AS version FROM flows
       WHERE workspace_id = ? AND active_version IS NOT NULL AND deleted_at IS NULL
       ORDER BY created_at, id`,
    ),

    contactByIdentity: db.prepare<[string, string, string], ContactRow>(
      `SELECT c.* FROM contact_identities i JOIN contacts c ON c.id = i.contact_id
       WHERE i.workspace_id = ? AND i.channel = ? AND i.external_id = ?`,
    ),
    insertContact: db.prepare<[string, string, string, string, number, number]>(
      'INSERT INTO contacts (id, workspace_id, fields, identities, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertIdentity: db.prepare<[string, string, string, string]>(
      'INSERT INTO contact_identities (workspace_id, channel, external_id, contact_id) VALUES (?, ?, ?, ?)',
    ),
    getContact: db.prepare<[string, string], ContactRow>('SELECT * FROM contacts WHERE workspace_id = ? AND id = ?'),
    contactsFirstPage: db.prepare<[string, number], ContactRow>(
      `SELECT * FROM contacts WHERE workspace_id = ? ORDER BY created_at DESC, id DESC ${limitBy()}`,
    ),
    contactsAfter: db.prepare<[string, number, string, number], ContactRow>(
      `SELECT * FROM contacts WHERE workspace_id = ? AND (created_at, id) < (?, ?)
       ORDER BY created_at DESC, id DESC ${limitBy()}`,
    ),
    setContactFields: db.prepare<[string, number, string, string]>(
      'UPDATE contacts SET fields = ?, updated_at = ? WHERE workspace_id = ? AND id = ?',
    ),

    getRun: db.prepare<[string, string], RunRow>('SELECT * FROM runs WHERE workspace_id = ? AND id = ?'),
    activeRunsForContact: db.prepare<[string, string], RunRow>(
      `SELECT * FROM runs WHERE workspace_id = ? AND contact_id = ? AND status IN ('running', 'waiting')
       ORDER BY created_at, id`,
    ),
    stepLog: db.prepare<[string], StepLogRow>('SELECT * FROM step_log WHERE run_id = ? ORDER BY step_no'),
    stepLogPage: db.prepare<[string, number, number], StepLogRow>(
      `SELECT * FROM step_log WHERE run_id = ? AND step_no > ? ORDER BY step_no ${limitBy()}`,
    ),
    countByStatusAll: db.prepare<[], { status: string; n: number }>(
      'SELECT status, COUNT(*) AS n FROM runs GROUP BY status',
    ),
    countByStatusIn: db.prepare<[string], { status: string; n: number }>(
      'SELECT status, COUNT(*) AS n FROM runs WHERE workspace_id = ? GROUP BY status',
    ),

    leaseOwner: db.prepare<[string], { owner: string }>('SELECT owner FROM leases WHERE key = ?'),
    insertRun: db.prepare<
      [string, string, string, number, string, string, string | null, string, string | null, string, number,
        string | null, string | null, number, number, number | null]
    >(
      `INSERT INTO runs (id, workspace_id, flow_id, flow_version, contact_id, trigger_id, channel, status, waiting,
         snapshot, step_count, error, failed_node_id, created_at, updated_at, ended_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateRun: db.prepare<
      [string | null, string, string | null, string, number, string | null, string | null, number, number | null,
        string, string]
    >(
      `UPDATE runs SET channel = ?, status = ?, waiting = ?, snapshot = ?, step_count = ?, error = ?,
         failed_node_id = ?, updated_at = ?, ended_at = ?
       WHERE id = ? AND workspace_id = ?`,
    ),
    insertOutbox: db.prepare<[string, number, string, string, number, number]>(
      `INSERT INTO outbox (run_id, seq, workspace_id, effect, status, attempts, available_at, created_at)
       VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)
       ON CONFLICT (run_id, seq) DO NOTHING`,
    ),

    insertJournal: db.prepare<[string, string, string, string, string, string, number]>(
      `INSERT INTO journal (id, workspace_id, kind, dedupe_key, ordering_key, payload, received_at, status, attempts)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0)
       ON CONFLICT (workspace_id, dedupe_key) DO NOTHING`,
    ),
    journalByDedupe: db.prepare<[string, string], JournalRow>(
      'SELECT * FROM journal WHERE workspace_id = ? AND dedupe_key = ?',
    ),
    /**
     * Up to `limit` workspaces with pending entries, in id order after `after`: one index seek
     * each (through journal_pending_by_workspace), however deep their backlogs.
     */
    pendingWorkspacesAfter: db.prepare<[string, number], { id: string }>(
      `WITH RECURSIVE w(id) AS (
         SELECT (SELECT MIN(workspace_id) FROM journal WHERE status = 'pending' AND workspace_id > ?)
         UNION ALL
         SELECT (SELECT MIN(workspace_id) FROM journal WHERE status = 'pending' AND workspace_id > w.id) FROM w WHERE w.id IS NOT NULL
       )
       SELECT id FROM w WHERE id IS NOT NULL ${limitBy()}`,
    ),
    /** Read from the covering index only: the full rows are fetched for the heads alone. */
    pendingKeysOfWorkspace: db.prepare<[string, number, number], { seq: number; ordering_key: string }>(
      `SELECT seq, ordering_key FROM journal j
       WHERE status = 'pending' AND workspace_id = ?
         AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.key = j.ordering_key AND l.until >= ?)
       ORDER BY seq
       ${limitBy()}`,
    ),
    /** Each unleased key's oldest pending entry in one workspace, as seqs: reads all its pending. */
    pendingHeadsOfWorkspace: db.prepare<[string, number, number], { seq: number }>(
      `SELECT h.head AS seq FROM (
         SELECT MIN(seq) AS head, ordering_key FROM journal WHERE status = 'pending' AND workspace_id = ? GROUP BY ordering_key
       ) h
       WHERE NOT EXISTS (SELECT 1 FROM leases l WHERE l.key = h.ordering_key AND l.until >= ?)
       ORDER BY h.head
       ${limitBy()}`,
    ),
    journalBySeqs: db.prepare<[string], JournalRow>(
      'SELECT * FROM journal WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq',
    ),
    pendingForKey: db.prepare<[string, number], JournalRow>(
      `SELECT * FROM journal WHERE ordering_key = ? AND status = 'pending' ORDER BY seq ${limitBy()}`,
    ),
    // Per key, its oldest pending rows through the covering index: a LIMIT per key, not per query.
    pendingForKeys: db.prepare<[string, number], JournalRow>(
      `SELECT j.* FROM json_each(?) AS k, journal AS j
       WHERE j.seq IN (SELECT p.seq FROM journal AS p WHERE p.ordering_key = k.value AND p.status = 'pending' ORDER BY p.seq ${limitBy()})
       ORDER BY j.seq`,
    ),
    markProcessed: db.prepare<[number, string]>(
      `UPDATE journal SET status = 'processed', processed_at = ? WHERE id = ?`,
    ),
    markFailed: db.prepare<[string, number, string]>(
      `UPDATE journal SET status = 'failed', error = ?, processed_at = ?, attempts = attempts + 1 WHERE id = ?`,
    ),
    journalExists: db.prepare<[string], { seq: number }>('SELECT seq FROM journal WHERE id = ?'),
    countPendingJournal: db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM journal WHERE status = 'pending'`),

    /**
     * Up to `limit` workspaces, in id order after `after`, with effects of `type` due at `now`,
     * leaving out those in the JSON array `full`: one index seek each (through
     * outbox_due_by_workspace), however deep their backlogs. The `json_extract` is the index's
     * own expression, so SQLite can use it.
     */
    workspacesWithDueEffects: db.prepare<[{ type: string; after: string; now: number; full: string; limit: number }], { id: string }>(
      `WITH RECURSIVE w(id) AS (
         SELECT (SELECT MIN(workspace_id) FROM outbox
                 WHERE json_extract(effect, '$.type') = @type AND status = 'pending' AND workspace_id > @after)
         UNION ALL
         SELECT (SELECT MIN(workspace_id) FROM outbox
                 WHERE json_extract(effect, '$.type') = @type AND status = 'pending' AND workspace_id > w.id)
         FROM w WHERE w.id IS NOT NULL
       )
       SELECT id FROM w
       WHERE id IS NOT NULL
         AND (SELECT MIN(available_at) FROM outbox
              WHERE json_extract(effect, '$.type') = @type AND status = 'pending' AND workspace_id = w.id) <= @now
         AND id NOT IN (SELECT value FROM json_each(@full))
       ${limitBy('@limit')}`,
    ),
    /** A workspace's due, unleased effects of one type, the longest due first. */
    dueEffectsOfWorkspace: db.prepare<[string, string, number, number, number], { rowid: number; available_at: number }>(
      `SELECT rowid, available_at FROM outbox
       WHERE json_extract(effect, '$.type') = ? AND workspace_id = ? AND status = 'pending' AND available_at <= ?
         AND (lease_until IS NULL OR lease_until < ?)
       ORDER BY available_at, rowid
       ${limitBy()}`,
    ),
    /** Leases these effects (a JSON array of rowids), those still due and free at `now`. */
    claimOutboxRows: db.prepare<[string, number, string, number, number], OutboxRow>(
      `UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
       WHERE rowid IN (SELECT value FROM json_each(?))
         AND status = 'pending' AND available_at <= ? AND (lease_until IS NULL OR lease_until < ?)
       RETURNING *`,
    ),
    renewOutbox: db.prepare<[number, string, number, string]>(
      `UPDATE outbox SET lease_until = ? WHERE run_id = ? AND seq = ? AND lease_owner = ? AND status = 'pending'`,
    ),
    outboxStatus: db.prepare<[string, number], { status: string }>(
      'SELECT status FROM outbox WHERE run_id = ? AND seq = ?',
    ),
    completeOutbox: db.prepare<[number, string, string, number]>(
      `UPDATE outbox SET status = 'done', completed_at = ?, result = ?, lease_owner = NULL, lease_until = NULL
       WHERE run_id = ? AND seq = ? AND status = 'pending'`,
    ),
    retryOutbox: db.prepare<[number, string, string, number]>(
      `UPDATE outbox SET available_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
       WHERE run_id = ? AND seq = ? AND status = 'pending'`,
    ),
    failOutbox: db.prepare<[number, string, string, number]>(
      `UPDATE outbox SET status = 'failed', completed_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
       WHERE run_id = ? AND seq = ? AND status = 'pending'`,
    ),
    getOutbox: db.prepare<[string, number], OutboxRow>('SELECT * FROM outbox WHERE run_id = ? AND seq = ?'),
    countPendingOutbox: db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'`),

    messageByKey: db.prepare<[string, string], MessageRow>(
      'SELECT * FROM messages WHERE workspace_id = ? AND idempotency_key = ?',
    ),
    maxMessageSeq: db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM messages'),
    messagesStoredAfter: db.prepare<[number, number], StoredMessageRef>(
      `SELECT seq, workspace_id AS workspaceId, contact_id AS contactId, channel, direction
       FROM messages WHERE seq > ? ORDER BY seq ${limitBy()}`,
    ),
    listMessages: db.prepare<[string, string, number, number], MessageRow>(
      `SELECT * FROM messages WHERE workspace_id = ? AND contact_id = ? AND seq > ? ORDER BY seq ${limitBy()}`,
    ),
    listMessagesOneWay: db.prepare<[string, string, number, string, number], MessageRow>(
      `SELECT * FROM messages WHERE workspace_id = ? AND contact_id = ? AND seq > ? AND direction = ? ORDER BY seq ${limitBy()}`,
    ),

    acquireLease: db.prepare<[string, string, number, number]>(
      `INSERT INTO leases (key, owner, until) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, until = excluded.until
       WHERE leases.owner = excluded.owner OR leases.until < ?`,
    ),
    releaseLease: db.prepare<[string, string]>('DELETE FROM leases WHERE key = ? AND owner = ?'),
  };
}

/** The prepared statements of one connection. @internal */
export type Statements = ReturnType<typeof prepareStatements>;
