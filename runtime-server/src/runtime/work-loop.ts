/**
 * A background loop that runs `tick` until it reports no work, then sleeps until `wake()` or the
 * poll interval (work written by other processes is only seen by polling).
 */
export class WorkLoop {
  private running = false;
  private sleeping: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done: Promise<void> = Promise.resolve();
  private wakeRequested = false;

  constructor(
    private readonly tick: () => Promise<number>,
    private readonly pollMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.done = this.loop();
  }

  /** Runs a tick soon: call after writing work this loop should pick up. */
  wake(): void {
    this.wakeRequested = true;
    this.sleeping?.();
  }

  /** Stops after the tick in progress; resolves when it has finished. */
  async stop(): Promise<void> {
    this.running = false;
    this.sleeping?.();
    await this.done;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.wakeRequested = false;
      let worked = 0;
      try {
        worked = await this.tick();
      } catch (err) {
        this.onError(err);
      }
      if (!this.running) break;
      if (worked > 0 || this.wakeRequested) {
        // Yield to I/O between busy ticks so HTTP requests are not starved.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      await new Promise<void>((resolve) => {
        this.sleeping = resolve;
        this.timer = setTimeout(resolve, this.pollMs);
      });
      clearTimeout(this.timer);
      this.sleeping = undefined;
    }
  }
}
