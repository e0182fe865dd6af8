import type { ContactChannelIdentity, StoragePort } from '../storage/storage-port.js';
import type { MessageStored } from './runtime-port.js';

/** Refs read per poll; a busier moment is read over the next polls. */
const REFS_PER_POLL = 1_000;
/** Contacts whose channel identities are kept; the map is cleared when full. */
const IDENTITY_CACHE = 10_000;
/**
 * How long polling goes on after the last listener left. Under a steady load listeners come and go
 * with every reply; stopping each time made every next listener read where to start again.
 */
const DEFAULT_LINGER_MS = 1_000;

/**
 * Tells this process of the outbound messages any process stored, so that a reader waiting on a
 * conversation (the simulator's long poll) wakes within one poll when another server on the same
 * store recorded the reply. This process announces its own replies at once; they come round again
 * here, which a waiter takes as one more wake-up.
 *
 * It polls while somebody listens, and for `lingerMs` after the last one left, with one query for
 * all of them: `retain()` per listener.
 * On MongoDB a message can commit after one with a greater seq and be skipped; the waiters' own
 * slow re-read still finds it.
 */
export class MessageWatcher {
  #listeners = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Messages up to this seq were looked at; undefined until the first poll reads where to start. */
  #watermark: number | undefined;
  #polling = false;
  /** When the listener count last fell to zero. */
  #idleSince = 0;
  /** Bumped by `close()`: listeners counted before it are no longer counted out. */
  #generation = 0;
  readonly #identities = new Map<string, ContactChannelIdentity[]>();

  constructor(
    private readonly store: Pick<StoragePort, 'messages' | 'contacts'>,
    private readonly pollMs: number,
    private readonly emit: (event: MessageStored) => void,
    private readonly onError: (err: unknown) => void,
    private readonly lingerMs = DEFAULT_LINGER_MS,
  ) {}

  /** Counts a listener in; the returned function counts it out (polling stops `lingerMs` after the last). */
  retain(): () => void {
    this.#listeners += 1;
    // The first listener starts at once: on SQLite the starting seq is read before the listener's
    // own first read of the conversation, so nothing stored in between is missed. A watcher still
    // lingering has a starting point already: its next poll covers everything since.
    if (this.#listeners === 1 && this.#watermark === undefined) this.#pollThenSchedule();
    const generation = this.#generation;
    let released = false;
    return () => {
      if (released || generation !== this.#generation) return;
      released = true;
      this.#listeners -= 1;
      if (this.#listeners === 0) this.#idleSince = performance.now();
    };
  }

  /** Stops polling whoever still listens (runtime shutdown). */
  close(): void {
    this.#generation += 1;
    this.#listeners = 0;
    this.#idleSince = Number.NEGATIVE_INFINITY; // a poll in flight must not schedule another
    this.#stop();
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Messages stored while nobody listened are nobody's business: start from the end next time.
    this.#watermark = undefined;
  }

  #pollThenSchedule(): void {
    if (this.#polling) return; // the poll in flight schedules the next
    void this.#poll().finally(() => {
      if (this.#timer) return;
      if (this.#listeners === 0 && performance.now() - this.#idleSince >= this.lingerMs) {
        this.#stop();
        return;
      }
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#pollThenSchedule();
      }, this.pollMs);
    });
  }

  async #poll(): Promise<void> {
    this.#polling = true;
    try {
      // Kept even when the watcher stopped meanwhile: the poll's end stops it again, and a start
      // read earlier than a new listener's first read only announces more, never less.
      if (this.#watermark === undefined) {
        this.#watermark = await this.store.messages.lastSeq();
        return;
      }
      let mark = this.#watermark;
      const refs = await this.store.messages.storedAfter(mark, REFS_PER_POLL);
      for (const ref of refs) {
        mark = Math.max(mark, ref.seq);
        if (ref.direction !== 'outbound' || this.#listeners === 0) continue;
        for (const identity of await this.#identitiesOf(ref.workspaceId, ref.contactId)) {
          if (identity.channel !== ref.channel) continue;
          this.emit({ workspaceId: ref.workspaceId, contactId: ref.contactId, channel: ref.channel, externalId: identity.externalId, seq: ref.seq });
        }
      }
      this.#watermark = mark;
    } catch (err) {
      this.onError(err);
    } finally {
      this.#polling = false;
    }
  }

  /** A contact's channel identities, kept: an identity belongs to one contact for good. */
  async #identitiesOf(workspaceId: string, contactId: string): Promise<ContactChannelIdentity[]> {
    const key = `${workspaceId}\u0000${contactId}`;
    const known = this.#identities.get(key);
    if (known) return known;
    const identities = (await this.store.contacts.get(workspaceId, contactId))?.identities ?? [];
    if (identities.length === 0) return identities;
    if (this.#identities.size >= IDENTITY_CACHE) this.#identities.clear();
    this.#identities.set(key, identities);
    return identities;
  }
}
