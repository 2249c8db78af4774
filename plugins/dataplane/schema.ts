import { Type, type Static } from 'typebox'
import { Millis, Nullable, Strict } from '../../sdk/schema-helpers.js'

/** Server-wide queue knobs; capacity and full policy are per pool (`pools[].queue`). */
export const QueueDefaults = Strict({
  eta_per_item_ms: Millis({ minimum: 1, default: 100, description: 'predicted wait per queued task before any job has completed (§4.4)' }),
  high_watermark: Type.Number({ minimum: 0, maximum: 1, default: 0.8, description: 'queue occupancy from which a 202 carries backoff_ms as pacing advice' }),
  throttle: Nullable(Strict({
    tasks_per_s: Type.Number({ exclusiveMinimum: 0, description: 'sustained admissions per second per client' }),
    burst: Type.Integer({ minimum: 1, description: 'admissions a client may make at once' }),
  }, {
    description: 'per-client admission rate (token bucket); a client is its X-API-Key, else its address. ' +
      'Over it: 429 ADMISSION_REJECT, policy_label "rate-limit"',
  })),
}, { default: {} })

export const SseConfig = Strict({
  keepalive_ms: Millis({ minimum: 100, default: 15_000, description: 'a `: keep-alive` comment goes out after this long without a frame' }),
  micro_batch_ms: Type.Integer({
    minimum: 0,
    maximum: 5,
    default: 0,
    description: 'coalesce writes for up to this many ms (0: off, frames leave once per event-loop turn)',
  }),
  metrics_interval_ms: Millis({ minimum: 1, default: 1000, description: 'at most one `metrics` frame per interval, or per metrics_interval_tokens' }),
  metrics_interval_tokens: Type.Integer({ minimum: 1, default: 32, description: 'a `metrics` frame every this many tokens' }),
}, { default: {} })

/** What a sparse `POST /v1/tasks` body gets when the manifest says nothing (issue 11). */
export const DEFAULT_MAX_TOKENS = 256
export const DEFAULT_DEADLINE_MS = 60_000

export const TasksConfig = Strict({
  default_max_tokens: Type.Integer({
    minimum: 1,
    maximum: 2_147_483_647,
    default: DEFAULT_MAX_TOKENS,
    description: 'max_tokens of a POST /v1/tasks body that leaves it out (issue 11); prompt + max_tokens must still fit the pool\'s ctx_max',
  }),
  default_deadline_ms: Millis({
    minimum: 1,
    default: DEFAULT_DEADLINE_MS,
    description: 'deadline_ms of a POST /v1/tasks body that leaves it out (issue 11): the task must start and end within it or it is aborted',
  }),
  retention_ms: Millis({ default: 300_000, description: 'a finished task and its event log stay readable this long' }),
  event_log_max_frames: Type.Integer({
    minimum: 16,
    default: 65_536,
    description: 'frames kept per task for replay; older ones (except `started`) are dropped',
  }),
  cost_per_token: Type.Number({ minimum: 0, default: 0.000002, description: 'cost units charged per generated token against the session cost budget' }),
  sweep_interval_ms: Millis({ minimum: 10, default: 1000, description: 'one periodic sweep: expired sessions and tasks, queued deadlines, idle dispatch' }),
  trace_artifacts: Type.Boolean({
    default: true,
    description: 'store each finished task\'s frames as a `trace` artifact (spec §2.2); see catalog.artifacts_store',
  }),
}, { default: {} })

export type QueueDefaults = Static<typeof QueueDefaults>
export type SseConfig = Static<typeof SseConfig>
export type TasksConfig = Static<typeof TasksConfig>
