/** No slot: the end of a list. */
const NONE = -1;

/** Slots held before the table first grows; it doubles from there up to its `max`. */
const INITIAL_SLOTS = 1_024;

/** What a table entry holds besides its key: the time it concerns, its expiry and, for bans, a version. */
export interface TableEntry {
  /** `bannedAt` or `notBefore`, in ms since the epoch. */
  atMs: number;
  /** When the entry may go, in ms since the epoch. */
  expiresAtMs: number;
  /** The highest version seen (bans only; 0 otherwise). */
  version: number;
  /** What the highest-versioned event said (bans only). */
  active: boolean;
}

/**
 * At most `max` entries keyed by user id, each with its expiry, in the order they were last set:
 * when the table is full, expired entries go first, then the one set longest ago. Reads do not
 * change that order.
 *
 * The entries live in typed arrays indexed by slot, and a `Map` finds a key's slot, so an entry
 * costs no object of its own: about 70 bytes, the key's string not counted, against about 150 for
 * an `lru-cache` holding an object per entry. The slots form a doubly linked list in set order
 * (`next`/`prev`); free slots are chained through `next`.
 */
export class EntryTable {
  readonly max: number;
  readonly #now: () => number;
  /** Called with an entry pushed out for room while it was still live. */
  readonly #onEarlyEviction: (key: string, entry: TableEntry) => void;
  readonly #slots = new Map<string, number>();
  #keys: (string | undefined)[] = [];
  #at = new Float64Array(0);
  #expires = new Float64Array(0);
  #version = new Float64Array(0);
  #active = new Uint8Array(0);
  #next = new Int32Array(0);
  #prev = new Int32Array(0);
  /** Slots ever handed out; those below it are in the list or free. */
  #used = 0;
  #free = NONE;
  #head = NONE;
  #tail = NONE;
  /** No entry expires before this (a lower bound), so no entry need be looked at before it. */
  #earliestExpiry = Number.POSITIVE_INFINITY;

  constructor(options: { max: number; now: () => number; onEarlyEviction: (key: string, entry: TableEntry) => void }) {
    this.max = options.max;
    this.#now = options.now;
    this.#onEarlyEviction = options.onEarlyEviction;
    this.#grow(Math.min(options.max, INITIAL_SLOTS));
  }

  /** Entries held, expired ones included until they are cleared. */
  get size(): number {
    return this.#slots.size;
  }

  /** The key's live entry, or undefined (an expired one is cleared). */
  get(key: string): TableEntry | undefined {
    const slot = this.#liveSlot(key);
    return slot === NONE ? undefined : this.#entryAt(slot);
  }

  /** The key's `atMs` while its entry is live, without building the entry: what every request asks. */
  atOf(key: string): number | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined || !(this.#expires[slot]! > this.#now())) return undefined;
    return this.#at[slot];
  }

  /** Sets the key's entry and makes it the most recently set, making room first if need be. */
  set(key: string, entry: TableEntry): void {
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      if (this.#slots.size >= this.max) this.#makeRoom();
      slot = this.#takeSlot();
      this.#keys[slot] = key;
      this.#slots.set(key, slot);
    } else {
      this.#unlink(slot);
    }
    this.#at[slot] = entry.atMs;
    this.#expires[slot] = entry.expiresAtMs;
    this.#version[slot] = entry.version;
    this.#active[slot] = entry.active ? 1 : 0;
    this.#append(slot);
    if (entry.expiresAtMs < this.#earliestExpiry) this.#earliestExpiry = entry.expiresAtMs;
  }

  /** Clears every expired entry. */
  purgeExpired(): void {
    const nowMs = this.#now();
    if (nowMs < this.#earliestExpiry) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (let slot = this.#head; slot !== NONE;) {
      const next = this.#next[slot]!;
      const expires = this.#expires[slot]!;
      if (expires <= nowMs) this.#remove(slot);
      else if (expires < earliest) earliest = expires;
      slot = next;
    }
    this.#earliestExpiry = earliest;
  }

  #liveSlot(key: string): number {
    const slot = this.#slots.get(key);
    if (slot === undefined) return NONE;
    if (this.#expires[slot]! > this.#now()) return slot;
    this.#remove(slot);
    return NONE;
  }

  /** Frees a slot: the oldest when it has expired, else every expired one, else the oldest anyway. */
  #makeRoom(): void {
    if (!(this.#expires[this.#head]! > this.#now())) {
      this.#remove(this.#head);
      return;
    }
    this.purgeExpired();
    if (this.#slots.size < this.max) return;
    // Read from the slot itself, not through `get`, which clears an entry that expired meanwhile.
    const oldest = this.#head;
    const key = this.#keys[oldest]!;
    const entry = this.#entryAt(oldest);
    this.#remove(oldest);
    if (entry.expiresAtMs > this.#now()) this.#onEarlyEviction(key, entry);
  }

  #entryAt(slot: number): TableEntry {
    return { atMs: this.#at[slot]!, expiresAtMs: this.#expires[slot]!, version: this.#version[slot]!, active: this.#active[slot] === 1 };
  }

  #takeSlot(): number {
    if (this.#free !== NONE) {
      const slot = this.#free;
      this.#free = this.#next[slot]!;
      return slot;
    }
    if (this.#used === this.#at.length) this.#grow(Math.min(this.max, this.#at.length * 2));
    return this.#used++;
  }

  #remove(slot: number): void {
    this.#slots.delete(this.#keys[slot]!);
    this.#keys[slot] = undefined;
    this.#unlink(slot);
    this.#next[slot] = this.#free;
    this.#free = slot;
  }

  #append(slot: number): void {
    this.#prev[slot] = this.#tail;
    this.#next[slot] = NONE;
    if (this.#tail === NONE) this.#head = slot;
    else this.#next[this.#tail] = slot;
    this.#tail = slot;
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot]!;
    const next = this.#next[slot]!;
    if (prev === NONE) this.#head = next;
    else this.#next[prev] = next;
    if (next === NONE) this.#tail = prev;
    else this.#prev[next] = prev;
  }

  #grow(slots: number): void {
    const grown = <A extends Float64Array | Int32Array | Uint8Array>(from: A, make: (n: number) => A): A => {
      const to = make(slots);
      to.set(from);
      return to;
    };
    this.#at = grown(this.#at, (n) => new Float64Array(n));
    this.#expires = grown(this.#expires, (n) => new Float64Array(n));
    this.#version = grown(this.#version, (n) => new Float64Array(n));
    this.#active = grown(this.#active, (n) => new Uint8Array(n));
    this.#next = grown(this.#next, (n) => new Int32Array(n));
    this.#prev = grown(this.#prev, (n) => new Int32Array(n));
    // Sized at once, rather than grown by half again as slots are taken: 8 bytes a slot.
    const keys: (string | undefined)[] = new Array<string | undefined>(slots);
    for (let slot = 0; slot < this.#used; slot++) keys[slot] = this.#keys[slot];
    this.#keys = keys;
  }
}
