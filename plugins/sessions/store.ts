import type { Clock } from '../../lib/clock.js'
import type { SessionsConfig } from './schema.js'

/**
 * Sessions (spec api-and-core.md §2.5, ORCH-3021..3023, ORCH-3099, decisions 8, D8–D10):
 * a sliding TTL renewed by admission and stream activity, a turn limit, optional budgets
 * (unconfigured = unlimited and never reported), kv_warmth and the affine pool. Expiry is
 * lazy on every access plus one periodic `sweep()` by the owner: no timer per session.
 */
export interface Budgets { tokens?: number, time_ms?: number, cost?: number }

export interface Session {
  id: string
  expiresAt: number
  turns: number
  kvBytes: number
  kvWarmth: boolean
  /** What is left; a key is present only when that budget is configured. */
  budgets: Budgets
  affinity?: { poolId: string, replicaId?: string, lastUsedMs: number }
}

export interface Reservation { tokens: number, time_ms: number, cost: number }

export interface SessionInfo {
  ttl_ms_remaining: number
  turns: number
  kv_bytes: number
  kv_warmth: boolean
  tokens_budget_remaining?: number
  time_budget_remaining_ms?: number
  cost_budget_remaining?: number
}

export interface SessionStore {
  /** The live session, or undefined when unknown or expired (an expired one is evicted here). */
  get (id: string): Session | undefined
  /** The live session, or a fresh one with config defaults that is NOT stored until `commit`. */
  prospective (id: string): Session
  /** Why this reservation cannot be admitted (turns, then budgets), or undefined (§2.1 step 4, D8). */
  refusal (s: Session, r: Reservation): string | undefined
  /** Stores the session, takes the turn and the reservation, renews the TTL. */
  commit (s: Session, r: Reservation): void
  /** Gives an unused reservation back (drop, cancel before start); the turn stays taken. */
  release (id: string, r: Reservation): void
  /** Settles at the terminal frame: the reservation is replaced by what was really used. */
  settle (id: string, r: Reservation, used: Reservation): void
  touch (id: string): void
  delete (id: string): boolean
  info (s: Session): SessionInfo
  /** Budget headers (§1.7): only the configured ones. */
  headers (s: Session): Record<string, string>
  sweep (): number
  readonly size: number
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6

/** `onEvict` hears of every session that goes: deleted, or evicted by the TTL (on access or by the sweep). */
export function createSessionStore (config: SessionsConfig, clock: Clock, onEvict?: (id: string, s: Session) => void): SessionStore {
  const sessions = new Map<string, Session>()
  const evict = (id: string, s: Session): void => { sessions.delete(id); onEvict?.(id, s) }
  const defaults = (): Budgets => {
    const b: Budgets = {}
    const c = config.budgets
    if (typeof c.tokens === 'number') b.tokens = c.tokens
    if (typeof c.time_ms === 'number') b.time_ms = c.time_ms
    if (typeof c.cost === 'number') b.cost = c.cost
    return b
  }
  const live = (id: string): Session | undefined => {
    const s = sessions.get(id)
    if (s && s.expiresAt <= clock.nowMs()) { evict(id, s); return undefined }
    return s
  }
  const adjust = (s: Session, sign: 1 | -1, r: Reservation): void => {
    if (s.budgets.tokens !== undefined) s.budgets.tokens += sign * r.tokens
    if (s.budgets.time_ms !== undefined) s.budgets.time_ms += sign * r.time_ms
    if (s.budgets.cost !== undefined) s.budgets.cost = round6(s.budgets.cost + sign * r.cost)
  }
  return {
    get: live,
    prospective (id) {
      return live(id) ?? { id, expiresAt: clock.nowMs() + config.ttl_ms, turns: 0, kvBytes: 0, kvWarmth: false, budgets: defaults() }
    },
    refusal (s, r) {
      if (s.turns >= config.max_turns) {
        return `session ${s.id} has used its ${config.max_turns} turns (sessions.max_turns); start a new session_id or raise sessions.max_turns`
      }
      const b = s.budgets
      if (b.tokens !== undefined && b.tokens < r.tokens) return `max_tokens ${r.tokens} is over the session's token budget (${b.tokens} left)`
      if (b.time_ms !== undefined && b.time_ms <= 0) return 'the session\'s time budget is spent; start a new session_id'
      if (b.cost !== undefined && b.cost < r.cost) return `the task's cost estimate ${r.cost} is over the session's cost budget (${b.cost} left)`
      return undefined
    },
    commit (s, r) {
      s.turns++
      adjust(s, -1, r)
      s.expiresAt = clock.nowMs() + config.ttl_ms
      sessions.set(s.id, s)
    },
    release (id, r) {
      const s = live(id)
      if (s) adjust(s, 1, r)
    },
    settle (id, r, used) {
      const s = live(id)
      if (!s) return
      adjust(s, 1, r)
      adjust(s, -1, used)
      s.expiresAt = clock.nowMs() + config.ttl_ms
    },
    touch (id) {
      const s = live(id)
      if (s) s.expiresAt = clock.nowMs() + config.ttl_ms
    },
    delete (id) {
      const s = live(id)
      if (s) evict(id, s)
      return s !== undefined
    },
    info (s) {
      const b = s.budgets
      return {
        ttl_ms_remaining: Math.max(0, s.expiresAt - clock.nowMs()),
        turns: s.turns,
        kv_bytes: s.kvBytes,
        kv_warmth: s.kvWarmth,
        ...(b.tokens !== undefined ? { tokens_budget_remaining: b.tokens } : {}),
        ...(b.time_ms !== undefined ? { time_budget_remaining_ms: b.time_ms } : {}),
        ...(b.cost !== undefined ? { cost_budget_remaining: b.cost } : {}),
      }
    },
    headers (s) {
      const b = s.budgets
      return {
        ...(b.tokens !== undefined ? { 'x-budget-tokens-remaining': String(b.tokens) } : {}),
        ...(b.time_ms !== undefined ? { 'x-budget-time-remaining-ms': String(b.time_ms) } : {}),
        ...(b.cost !== undefined ? { 'x-budget-cost-remaining': String(b.cost) } : {}),
      }
    },
    sweep () {
      const now = clock.nowMs()
      let n = 0
      for (const [id, s] of sessions) if (s.expiresAt <= now) { evict(id, s); n++ }
      return n
    },
    get size () { return sessions.size },
  }
}
