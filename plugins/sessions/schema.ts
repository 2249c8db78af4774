import { Type, type Static } from 'typebox'
import { Millis, Nullable, Strict } from '../../sdk/schema-helpers.js'

export const SessionBudgets = Strict({
  tokens: Nullable(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'tokens a session may generate' })),
  time_ms: Nullable(Millis({ description: 'decode time a session may use' })),
  cost: Nullable(Type.Number({ minimum: 0, description: 'cost units a session may spend (tasks.cost_per_token each)' })),
}, { default: {} })

export const SessionsConfig = Strict({
  ttl_ms: Millis({ minimum: 1, default: 600_000, description: 'sliding idle window; admission and stream activity renew it (ORCH-3021)' }),
  max_turns: Type.Integer({
    minimum: 1,
    default: 8,
    description: 'accepted tasks per session (configurable: raise it for long conversations). The task after the cap is refused ' +
      'before enqueue with 400 INVALID_PARAMS naming the session; a task without session_id gets a fresh session and never meets it',
  }),
  budgets: SessionBudgets,
}, { default: {} })

export type SessionsConfig = Static<typeof SessionsConfig>
