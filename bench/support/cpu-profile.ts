/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and tells where the time went: self
 * time per function and per area of the code base. Reads files only (the profile, tsx's cache).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One row of a self-time table. */
export interface SelfTimeRow {
  name: string;
  ms: number;
  /** Share of the sampled (non-idle) time, 0..1. */
  share: number;
}

/** What `summariseCpuProfile` finds. */
export interface CpuProfileSummary {
  /** Sampled time in the window, idle excluded, ms. */
  busyMs: number;
  /** Idle time in the window (the event loop waiting), ms. */
  idleMs: number;
  /** Functions by self time (same function, file and line merged). */
  functions: SelfTimeRow[];
  /** Areas by self time: our packages, dependencies by name, node internals, GC. */
  areas: SelfTimeRow[];
  /** Functions of our packages (engine, nodes, runtime-server) by inclusive time (self + callees). */
  oursInclusive: SelfTimeRow[];
}

/**
 * Where a frame's code lives: `runtime-server/storage`, `engine`, `express`, `node:internal`...
 * Dependencies are named by package; our code by package and first folder.
 */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return '(gc)';
    if (functionName === '(program)') return '(program: V8/native outside JS)';
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? `internal/${url.split('/')[1] ?? ''}` : url.slice(5)}`;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 14).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  const ours = /\/(engine|nodes|runtime-server)\/src\/(?:([^/]+)\/)?/.exec(url);
  if (ours) return ours[2] && !ours[2].includes('.') ? `${ours[1]}/${ours[2]}` : (ours[1] as string);
  return url;
}

/** A transpiled file as tsx cached it: the code V8 ran and its source map. */
interface TsxCacheEntry {
  code: string;
  map: SourceMap;
  mtimeMs: number;
}

/**
 * tsx runs TypeScript minified onto one line, so profile positions are useless until mapped back.
 * Its cache (`<tmpdir>/tsx-<uid>/`, JSON `{code, map}`) holds every version it transpiled; for each
 * source path pick the version whose code has each named frame's function at the sampled column.
 */
function tsxSourceMaps(profile: CpuProfile): Map<string, TsxCacheEntry> {
  const framesByUrl = new Map<string, CallFrame[]>();
  for (const n of profile.nodes) {
    const { url } = n.callFrame;
    if (!url.startsWith('file://') || !/\.[cm]?tsx?$/.test(url)) continue;
    const list = framesByUrl.get(url) ?? [];
    list.push(n.callFrame);
    framesByUrl.set(url, list);
  }
  const resolved = new Map<string, TsxCacheEntry>();
  if (framesByUrl.size === 0) return resolved;
  const dir = join(tmpdir(), `tsx-${userInfo().uid}`);
  const candidates = new Map<string, TsxCacheEntry[]>();
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return resolved; // no cache: positions stay as V8 saw them
  }
  const wanted = new Set([...framesByUrl.keys()].map((u) => fileURLToPath(u)));
  for (const name of files) {
    const file = join(dir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const sourcesAt = text.lastIndexOf('"sources":[');
    const source = sourcesAt >= 0 ? /"sources":\["([^"]+)"/.exec(text.slice(sourcesAt))?.[1] : undefined;
    if (!source || !wanted.has(source)) continue;
    try {
      const entry = JSON.parse(text) as { code?: string; map?: unknown };
      if (typeof entry.code !== 'string' || !entry.map) continue;
      const list = candidates.get(source) ?? [];
      list.push({ code: entry.code, map: new SourceMap(entry.map as ConstructorParameters<typeof SourceMap>[0]), mtimeMs: statSync(file).mtimeMs });
      candidates.set(source, list);
    } catch {
      // not one of tsx's JSON entries
    }
  }
  for (const [url, frames] of framesByUrl) {
    const list = candidates.get(fileURLToPath(url));
    if (!list?.length) continue;
    const score = (entry: TsxCacheEntry): number => {
      const lines = entry.code.split('\n');
      let hits = 0;
      for (const f of frames) {
        const line = lines[f.lineNumber];
        if (line === undefined || f.columnNumber > line.length) return -1;
        if (f.functionName && line.slice(Math.max(0, f.columnNumber - 64), f.columnNumber + 64).includes(f.functionName)) hits += 1;
      }
      return hits;
    };
    const best = list
      .map((entry) => ({ entry, score: score(entry) }))
      .sort((a, b) => b.score - a.score || b.entry.mtimeMs - a.entry.mtimeMs)[0];
    if (best && best.score >= 0) resolved.set(url, best.entry);
  }
  return resolved;
}

/** The frame with its position in the TypeScript source (1-based line reported later), when known. */
function mapFrame(frame: CallFrame, maps: Map<string, TsxCacheEntry>): CallFrame {
  const entry = maps.get(frame.url);
  if (!entry) return frame;
  const found = entry.map.findEntry(frame.lineNumber, frame.columnNumber) as { originalLine?: number; originalColumn?: number };
  if (found.originalLine === undefined) return frame;
  // An arrow function has no name: show the code around it (`pendingForKey:async(key,limit)=>guard(...`).
  const functionName =
    frame.functionName ||
    `(anonymous: ${(entry.code.split('\n')[frame.lineNumber] ?? '').slice(Math.max(0, frame.columnNumber - 40), frame.columnNumber + 50).trim()})`;
  return { ...frame, functionName, lineNumber: found.originalLine, columnNumber: found.originalColumn ?? 0 };
}

const shortUrl = (url: string): string => {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + 14);
  const ours = /\/((?:engine|nodes|runtime-server)\/src\/.*)$/.exec(url);
  return ours ? (ours[1] as string) : url.replace(/^file:\/\//, '');
};

/**
 * Self time per function and per area, over the samples taken between `fromUs` and `toUs`
 * (V8 timestamps: CLOCK_MONOTONIC microseconds, the clock of `process.hrtime`), or all of them.
 *
 * @example
 * const summary = summariseCpuProfile(file, { fromUs: Number(t0 / 1000n), toUs: Number(t1 / 1000n) });
 * for (const row of summary.functions.slice(0, 15)) console.log(row.name, row.ms);
 */
export function summariseCpuProfile(file: string, window: { fromUs?: number; toUs?: number } = {}): CpuProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const maps = tsxSourceMaps(profile);
  for (const n of profile.nodes) n.callFrame = mapFrame(n.callFrame, maps);
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  const from = window.fromUs ?? -Infinity;
  const to = window.toUs ?? Infinity;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < from || t > to) continue;
    // A sample's delta is the time since the previous one: attribute it to this sample's frame.
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const nameOf = (frame: CallFrame): string =>
    frame.url ? `${frame.functionName || '(anonymous)'}  ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : frame.functionName;
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const name = nameOf(frame);
    functions.set(name, (functions.get(name) ?? 0) + us);
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
    // Inclusive time of our own functions: each one on the stack once, however deep it recurses.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = (byId.get(at) as ProfileNode).callFrame;
      if (!/\/(engine|nodes|runtime-server)\/src\//.test(f.url) || f.url.includes('/node_modules/')) continue;
      const key = nameOf(f);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const rows = (m: Map<string, number>): SelfTimeRow[] =>
    [...m.entries()]
      .map(([name, us]) => ({ name, ms: us / 1000, share: busy > 0 ? us / busy : 0 }))
      .sort((a, b) => b.ms - a.ms);
  return { busyMs: busy / 1000, idleMs: idle / 1000, functions: rows(functions), areas: rows(areas), oursInclusive: rows(inclusive) };
}
