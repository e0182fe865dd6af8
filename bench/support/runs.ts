/** Reading runs back through the API (`GET /api/runs`, paged). */
import type { HttpClient } from './http-client.js';

/** The fields of a run the benches look at (the API returns more). */
export interface RunSummary {
  id: string;
  flowId: string;
  status: string;
  createdAt: number;
  endedAt?: number;
}

/**
 * Counts the runs matching the API filter (and `accept`, when given) by paging through
 * `GET /api/runs` 500 at a time; at most `maxPages` pages.
 *
 * @example
 * const waiting = await countRuns(client, { flowId: 'bench-waiting', status: 'waiting' });
 */
export async function countRuns(
  client: HttpClient,
  filter: { flowId?: string; status?: string },
  accept: (run: RunSummary) => boolean = () => true,
  maxPages = 1_000,
): Promise<number> {
  const query = new URLSearchParams({ limit: '500', ...filter });
  let count = 0;
  for (let page = 0; page < maxPages; page++) {
    const body = await client.expect<{ items: RunSummary[]; next?: string }>(200, 'GET', `/api/runs?${query}`, undefined, 60_000);
    for (const run of body.items) if (accept(run)) count += 1;
    if (!body.next) return count;
    query.set('cursor', body.next);
  }
  throw new Error(`more than ${maxPages * 500} runs: stopped counting`);
}
