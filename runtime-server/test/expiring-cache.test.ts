import { ExpiringCache } from '../src/support/expiring-cache.js';

describe('ExpiringCache', () => {
  it('should read through once per lifetime, keep no misses and forget on invalidate', async () => {
    const cache = new ExpiringCache<string, number>(60_000);
    const reads: string[] = [];
    const load = async (key: string) => {
      reads.push(key);
      return key === 'missing' ? undefined : key.length;
    };
    expect(await cache.get('abc', load)).toBe(3);
    expect(await cache.get('abc', load)).toBe(3);
    expect(await cache.get('missing', load)).toBeUndefined();
    expect(await cache.get('missing', load)).toBeUndefined();
    expect(reads).toEqual(['abc', 'missing', 'missing']);
    cache.invalidate('abc');
    expect(await cache.get('abc', load)).toBe(3);
    cache.invalidate();
    expect(await cache.get('abc', load)).toBe(3);
    expect(reads).toEqual(['abc', 'missing', 'missing', 'abc', 'abc']);
  });

  it('should read again once an entry has lived its lifetime', async () => {
    const cache = new ExpiringCache<string, number>(20);
    let reads = 0;
    const load = async () => ++reads;
    expect(await cache.get('k', load)).toBe(1);
    expect(await cache.get('k', load)).toBe(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(await cache.get('k', load)).toBe(2);
  });

  it('should hand the loader the value that expired', async () => {
    const cache = new ExpiringCache<string, number>(60_000);
    const seen: Array<number | undefined> = [];
    const load = async (_key: string, expired: number | undefined) => (seen.push(expired), (expired ?? 0) + 1);
    expect(await cache.get('k', load)).toBe(1);
    cache.expire('k');
    expect(await cache.get('k', load)).toBe(2);
    expect(await cache.get('k', load)).toBe(2);
    cache.invalidate('k');
    expect(await cache.get('k', load)).toBe(1);
    expect(seen).toEqual([undefined, 1, undefined]);
  });

  // The load may have read the store before the change it is told of: its value must not be kept.
  it('should not keep a value whose load a change overlapped', async () => {
    for (const change of ['expire', 'invalidate'] as const) {
      const cache = new ExpiringCache<string, string>(60_000);
      let release: (value: string) => void = () => undefined;
      const slow = cache.get('k', () => new Promise<string>((resolve) => (release = resolve)));
      cache[change]('k');
      release('before the change');
      expect(await slow).toBe('before the change');
      expect(await cache.get('k', async () => 'after the change')).toBe('after the change');
    }
  });

  it('should stay within its size bound', async () => {
    const cache = new ExpiringCache<number, number>(60_000, 3);
    let reads = 0;
    const load = async (k: number) => (reads++, k);
    for (const k of [1, 2, 3, 4]) await cache.get(k, load);
    // The fourth entry took the place of the first loaded: 1 is read again, 3 and 4 are kept.
    await cache.get(1, load);
    expect(reads).toBe(5);
    await cache.get(3, load);
    await cache.get(4, load);
    expect(reads).toBe(5);
  });
});
