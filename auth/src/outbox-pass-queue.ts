/**
 * Runs a relay's passes one at a time. A pass asked for while one runs follows it, so a kick after
 * a commit is never lost, unless the relay has stopped or is resting meanwhile (a publish failed:
 * the rows are left to another relay, or to this one's next pass on its interval).
 */
export class PassQueue {
  readonly #pass: () => Promise<number>;
  readonly #stopping: AbortSignal;
  readonly #resting: () => boolean;
  /** The pass under way, if any. */
  #running: Promise<number> | undefined;
  /** Whether another pass was asked for while the one under way runs. */
  #again = false;

  constructor(pass: () => Promise<number>, stopping: AbortSignal, resting: () => boolean = () => false) {
    this.#pass = pass;
    this.#stopping = stopping;
    this.#resting = resting;
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
    const again = this.#again;
    this.#again = false;
    if (again && !this.#stopping.aborted && !this.#resting()) void this.request();
  }
}
