/**
 * A kind → deadline table whose minimum is the connection's next deadline
 * (STYLE.md habit 11). Each concern (loss detection, idle, ACK delay, pacing,
 * key discard, closing...) sets or clears its own entry; the connection
 * reports {@link TimerTable.next} as NEED_READ's deadline and, when called
 * back, handles every {@link TimerTable.expired} kind. Times are ms on the
 * caller's monotonic clock; nothing here reads a clock.
 */
export class TimerTable<K extends string> {
  private readonly kinds: readonly K[];
  private readonly deadlines: Map<K, number> = new Map();

  /** `kinds` fixes the order in which simultaneous deadlines are reported. */
  constructor(kinds: readonly K[]) {
    this.kinds = kinds;
  }

  /** Arms (a number) or stops (null) the timer of `kind`. */
  set(kind: K, deadline: number | null): void {
    if (deadline === null || Number.isNaN(deadline)) this.deadlines.delete(kind);
    else this.deadlines.set(kind, deadline);
  }

  get(kind: K): number | null {
    return this.deadlines.get(kind) ?? null;
  }

  stop(kind: K): void {
    this.deadlines.delete(kind);
  }

  stopAll(): void {
    this.deadlines.clear();
  }

  /** The earliest armed timer, or null if none is armed. */
  next(): { readonly kind: K; readonly deadline: number } | null {
    let best: { kind: K; deadline: number } | null = null;
    for (const kind of this.kinds) {
      const d = this.deadlines.get(kind);
      if (d !== undefined && (best === null || d < best.deadline)) best = { kind, deadline: d };
    }
    return best;
  }

  /** The deadline of {@link next}, or null. */
  nextDeadline(): number | null {
    return this.next()?.deadline ?? null;
  }

  /** The armed kinds due at `now` (deadline <= now), in table order; they stay armed until set or stopped. */
  expired(now: number): K[] {
    const out: K[] = [];
    for (const kind of this.kinds) {
      const d = this.deadlines.get(kind);
      if (d !== undefined && d <= now) out.push(kind);
    }
    return out;
  }
}
