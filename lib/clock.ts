/** Time as services see it; tests pass a fake to drive TTLs, deadlines and caches. */
export interface Clock { nowMs (): number }

export const systemClock: Clock = { nowMs: () => Date.now() }

/** A clock that moves only when told to. */
export function fakeClock (start = 1_700_000_000_000): Clock & { advance (ms: number): void, set (ms: number): void } {
  let now = start
  return {
    nowMs: () => now,
    advance (ms) { now += ms },
    set (ms) { now = ms },
  }
}
