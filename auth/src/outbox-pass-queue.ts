/**
 * Runs a relay's passes one at a time. A pass asked for while one runs follows it, so a kick after
 * a commit is never lost, unless the relay has stopped meanwhile.
 */
export class PassQueue {
  readonly #pass: () => Promise<number>;
  readonly #stopping: AbortSignal;
  /** The pass under way, if any. */
  #running: Promise<number> | undefined;
  /** Whether another pass was asked for while the one under way runs. */
  #again = false;

  constructor(pass: () => Promise<number>, stopping: AbortSignal) {
    this.#pass = pass;
    this.#stopping = stopping;
  }

  /** Starts a pass, or asks for one more after the one under way; resolves with what the pass under way published. */
  request(): Promise<number> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#pass().finally(() => this.#settled());
    return this.#running;
  }

  /** Resolves once the pass under way, if any, has ended. */
  async idle(): Promise<void> {
    await this.#running;
  }

  #settled(): void {
    this.#running = undefined;
    if (this.#again && !this.#stopping.aborted) {
      this.#again = false;
      void this.request();
    }
  }
}
