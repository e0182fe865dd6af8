/** Memory of a process on this machine, read from `/proc/<pid>/status` (Linux). */
import { readFileSync } from 'node:fs';

/** Resident set now and at its peak, in MiB. */
export interface ProcMemory {
  rssMb: number;
  peakRssMb: number;
}

/**
 * Reads `VmRSS` and `VmHWM` of `pid`.
 *
 * @throws when the process does not exist or the platform has no `/proc`.
 */
export function readProcMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]);
  };
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/** CPU time (user + system) that `pid` has used so far, in ms, from `/proc/<pid>/stat`. */
export function readProcCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}
