import type { ConsumerMessages } from '@nats-io/jetstream';

/**
 * How `stop()` reaches a running ban sync wherever it is: it stops the messages being consumed and
 * cuts short the pause before consuming again.
 */
export class BanSyncControl {
  #stopped = false;
  /** The messages of the latest consume pass, for `stop()` to end. */
  #messages: ConsumerMessages | undefined;
  /** Ends the current retry pause early. */
  #wake: (() => void) | undefined;

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Makes `messages` the ones `stop()` ends. */
  follow(messages: ConsumerMessages): void {
    this.#messages = messages;
  }

  /** Waits `ms` before consuming again, or less if stopped meanwhile. */
  pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => { clearTimeout(timer); resolve(); };
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#messages?.stop();
    this.#wake?.();
  }
}
