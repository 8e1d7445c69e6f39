/**
 * How far one ban sync has got in the `AUTH` stream: where to resume after an interruption,
 * whether the replay has caught up (and `ready` with it), and the lag of the last event applied.
 */
export class BanSyncProgress {
  /** The stream sequence of the last event taken; 0 until one is, or after the stream was made anew (replay the window). */
  lastSeq = 0;
  /** The creation time of the stream last consumed: a different one means it was made anew. */
  streamCreated: string | undefined = undefined;
  /** Whether the replay of the window has caught up with the stream; once true, it stays true. */
  caughtUp = false;
  /** Seconds from publish to apply of the last event applied. */
  lastEventLagSeconds = 0;
  /** Whether the last look found no AUTH stream (a service that waits for auth to make it). */
  streamMissing = false;
  /** The shortfalls last warned of in a stream this service may not change. */
  #shortfalls = '';
  /** Resolves once the replay has caught up. */
  readonly ready: Promise<void>;
  readonly #markReady: () => void;

  constructor() {
    let markReady!: () => void;
    this.ready = new Promise<void>((resolve) => { markReady = resolve; });
    this.#markReady = markReady;
  }

  /** Records that the replay has caught up; true the first time only. */
  markCaughtUp(): boolean {
    if (this.caughtUp) return false;
    this.caughtUp = true;
    this.#markReady();
    return true;
  }

  /** Notes whether the AUTH stream was found missing; true when that changed. */
  noteStreamMissing(missing: boolean): boolean {
    const changed = missing !== this.streamMissing;
    this.streamMissing = missing;
    return changed;
  }

  /** Notes the stream's shortfalls (empty: none); true when they are new, so worth a warning. */
  noteShortfalls(shortfalls: string): boolean {
    const changed = shortfalls !== this.#shortfalls;
    this.#shortfalls = shortfalls;
    return changed;
  }

  /**
   * Notes the stream about to be consumed. A stream made anew (its store lost) numbers from 1
   * again: true when this one was, so the position is forgotten and the window replayed instead of
   * resuming at a sequence that would skip its first events.
   */
  noteStream(created: string): boolean {
    const recreated = this.streamCreated !== undefined && created !== this.streamCreated && this.lastSeq > 0;
    if (recreated) this.lastSeq = 0;
    this.streamCreated = created;
    return recreated;
  }
}
