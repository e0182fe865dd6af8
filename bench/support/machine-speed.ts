/**
 * How fast this machine runs JavaScript right now: the median time of a fixed loop, in ms.
 *
 * The virtual machines we bench on change speed by a third from one minute to the next (other
 * tenants). Numbers taken minutes apart compare only together with this figure: lower is faster.
 */
export function machineSpeedMs(rounds = 5): number {
  const times: number[] = [];
  let sink = 0;
  for (let round = 0; round < rounds; round += 1) {
    const started = performance.now();
    for (let i = 0; i < 20_000_000; i += 1) sink = (sink + i * 31) % 1_000_003;
    times.push(performance.now() - started);
  }
  if (sink < 0) throw new Error('unreachable: keeps the loop from being optimised away');
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}
