/** Reading Prometheus text exposition (what `/metrics` serves). Pure. */

/**
 * Sums every sample of metric `name` whose labels include all of `labels` (an unlabelled match
 * when `labels` is empty sums them all). 0 when there is none.
 *
 * @example
 * sumMetric(text, 'convoflow_runs_ended_total', { status: 'done' })
 */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const close = rest[0] === '{' ? rest.indexOf('}') : -1;
    const labelText = close >= 0 ? rest.slice(1, close) : '';
    const ok = Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
    if (!ok) continue;
    const value = Number(rest.slice(close + 1).trim().split(' ')[0]);
    if (Number.isFinite(value)) total += value;
  }
  return total;
}
