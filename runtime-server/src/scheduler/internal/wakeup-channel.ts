import { EventEmitter } from 'node:events';
import type { JobId, JobNotification, NotificationChannel, NotificationChannelState, NotificationHandler } from 'agenda';

/**
 * In-process notification channel: when this process saves a job due before agenda's next poll,
 * agenda fills its queue at once instead of waiting up to `processEvery`. Other processes still
 * find the job by polling. Publishes no state notifications (agenda already emits them locally).
 * @internal
 */
export class WakeupChannel extends EventEmitter implements NotificationChannel {
  private current: NotificationChannelState = 'disconnected';
  private readonly handlers = new Set<NotificationHandler>();

  get state(): NotificationChannelState {
    return this.current;
  }

  async connect(): Promise<void> {
    this.current = 'connected';
    this.emit('stateChange', this.current);
  }

  async disconnect(): Promise<void> {
    this.current = 'disconnected';
    this.handlers.clear();
    this.emit('stateChange', this.current);
  }

  subscribe(handler: NotificationHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /**
   * Asks agenda to look for due jobs of `jobName` now (a notification with no `nextRunAt` passes
   * agenda's "due before my next scan" check).
   */
  wake(jobName: string): void {
    void this.publish({ jobId: '' as JobId, jobName, nextRunAt: null, priority: 0, timestamp: new Date() });
  }

  async publish(notification: JobNotification): Promise<void> {
    // Not awaited: saving a timer must not wait for agenda to fill its queue.
    for (const handler of this.handlers) {
      Promise.resolve()
        .then(() => handler(notification))
        .catch((error: unknown) => {
          if (this.listenerCount('error') > 0) this.emit('error', error instanceof Error ? error : new Error(String(error)));
        });
    }
  }
}
