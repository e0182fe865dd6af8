/** Small number helpers shared by the benches. Pure. */

/** The `p`th percentile (nearest rank) of ascending `sorted` values; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/** The middle of `values`, or the mean of the two middle ones; NaN when empty. */
export function median(values: ArrayLike<number>): number {
  const sorted = sortedCopy(values);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Ascending copy of `values` as a Float64Array (numeric sort, no comparator needed). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** `1,234.5` with a fixed number of decimals. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Reads `--name value` from argv as a number (or the fallback). */
export function numberArg(name: string, fallback: number, argv: string[] = process.argv): number {
  const i = argv.indexOf(`--${name}`);
  const raw = i >= 0 ? argv[i + 1] : undefined;
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${name}: expected a number, got "${raw}"`);
  return value;
}

/** Reads `--name value` from argv as a string (or the fallback). */
export function stringArg(name: string, fallback: string, argv: string[] = process.argv): string {
  const i = argv.indexOf(`--${name}`);
  return (i >= 0 ? argv[i + 1] : undefined) ?? fallback;
}

/** Whether the flag `--name` is present. */
export const flagArg = (name: string, argv: string[] = process.argv): boolean => argv.includes(`--${name}`);

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
