/** What `bench/http.ts --json-out` writes for each round, and what `bench/tools/compare.ts` reads. */
export interface HttpRoundSummary {
  /** SQLITE_SYNCHRONOUS of the round: FULL or NORMAL. */
  sync: string;
  /** The commit the server ran (see `codeVersion`). */
  code: string;
  /** Replies seen in the measured window, per second. */
  runsPerS: number;
  /** Inbound-to-outbound latency as the client saw it, ms. */
  p50: number;
  p99: number;
  /** Server CPU time (all threads) per run ended in the window, ms. */
  serverCpuMsPerRun: number;
  /** 1-minute load average before and after. */
  load: string;
  /** No lost reply, no request error, and the server's counters agree. */
  ok: boolean;
}
