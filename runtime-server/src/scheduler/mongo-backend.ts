import { MongoBackend } from '@agendajs/mongo-backend';
import type { AgendaBackend } from 'agenda';

/**
 * The scheduler's MongoDB backend (scale-out): agenda's own `@agendajs/mongo-backend`, jobs in
 * the `agendaJobs` collection of the URI's database. The backend owns this connection and closes
 * it on `Scheduler.stop()`.
 *
 * @param uri - a MongoDB connection string, e.g. `process.env.MONGODB_URI`
 * @example
 * ```ts
 * const scheduler = createAgendaScheduler({ backend: createMongoSchedulerBackend(process.env.MONGODB_URI!) });
 * ```
 */
export function createMongoSchedulerBackend(uri: string, options: { collection?: string } = {}): AgendaBackend {
  return new MongoBackend({ address: uri, collection: options.collection ?? 'agendaJobs' });
}
