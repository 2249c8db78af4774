import t from 'tap'
import {
  UPSTREAM_CONDITIONS, PUBLIC_ERROR_KIND, conditionForStatus, conditionForTransport, workerError, workerMessage, WORKER_MESSAGE_MAX, endedWithoutTerminal,
  deriveSeed, determinismOf, isKnownProfile, SEED_MAX, type TaskRequest,
} from '../index.js'

// spec adapters §1.4, one row per condition: [condition, worker kind, public kind, retriable]
const TABLE = [
  ['connect_refused', 'POOL_UNAVAILABLE', 'POOL_UNAVAILABLE', true],
  ['connect_timeout', 'POOL_UNAVAILABLE', 'POOL_UNAVAILABLE', true],
  ['dns_failure', 'POOL_UNAVAILABLE', 'POOL_UNAVAILABLE', true],
  ['stale_socket', 'POOL_UNAVAILABLE', 'POOL_UNAVAILABLE', true],
  ['http_503', 'POOL_UNAVAILABLE', 'POOL_UNAVAILABLE', true],
  ['http_429', 'POOL_UNAVAILABLE', 'POOL_UNAVAILABLE', true],
  ['quota_exhausted', 'ADAPTER', 'INTERNAL', false],
  ['breaker_open', 'POOL_UNAVAILABLE', 'POOL_UNAVAILABLE', true],
  ['no_replica', 'POOL_UNAVAILABLE', 'POOL_UNAVAILABLE', true],
  ['control_timeout', 'POOL_UNAVAILABLE', 'POOL_UNAVAILABLE', true],
  ['first_token_timeout', 'DECODE_TIMEOUT', 'DECODE_TIMEOUT', false],
  ['idle_timeout', 'DECODE_TIMEOUT', 'DECODE_TIMEOUT', false],
  ['deadline', 'DEADLINE_UNMET', 'DEADLINE_UNMET', false],
  ['retry_after_past_deadline', 'DEADLINE_UNMET', 'DEADLINE_UNMET', false],
  ['reset_after_headers', 'WORKER_RESET', 'WORKER_RESET', false],
  ['incomplete_generation', 'WORKER_RESET', 'WORKER_RESET', false],
  ['http_client_error', 'ADAPTER', 'INTERNAL', false],
  ['http_auth', 'ADAPTER', 'INTERNAL', false],
  ['http_server_error', 'ADAPTER', 'INTERNAL', false],
  ['engine_generation_error', 'ADAPTER', 'INTERNAL', false],
  ['stream_error_frame', 'ADAPTER', 'INTERNAL', false],
  ['malformed_frame', 'ADAPTER', 'INTERNAL', false],
  ['unsupported_request', 'ADAPTER', 'INTERNAL', false],
  ['adapter_exception', 'INTERNAL', 'INTERNAL', false],
] as const

t.test('the error mapping table, row by row (ORCH-3275)', async (t) => {
  t.same(Object.keys(UPSTREAM_CONDITIONS).sort(), TABLE.map((r) => r[0]).sort(), 'no row more, no row less')
  for (const [condition, kind, pub, retriable] of TABLE) {
    const e = workerError(condition, 'llamacpp', 'x', { upstream_status: 503, retry_after_ms: 1234.4 })
    t.same([e.kind, PUBLIC_ERROR_KIND[e.kind], e.retriable], [kind, pub, retriable], condition)
    t.equal(e.retry_after_ms, retriable ? 1234 : undefined, `${condition}: retry_after_ms only when retriable`)
    t.equal(e.upstream_status, 503)
  }
})

t.test('HTTP statuses and transport codes map to conditions', async (t) => {
  const rows: Array<[number, Record<string, string>, string]> = [
    [503, {}, 'http_503'], [429, {}, 'http_429'],
    [429, { code: 'insufficient_quota' }, 'quota_exhausted'], [429, { error_type: 'insufficient_quota' }, 'quota_exhausted'],
    [401, {}, 'http_auth'], [403, {}, 'http_auth'], [424, {}, 'engine_generation_error'],
    [500, { error_type: 'incomplete_generation' }, 'incomplete_generation'],
    [500, {}, 'http_server_error'], [502, {}, 'http_server_error'],
    [400, {}, 'http_client_error'], [404, {}, 'http_client_error'], [422, {}, 'http_client_error'],
  ]
  for (const [status, hint, condition] of rows) t.equal(conditionForStatus(status, hint), condition, `${status} ${JSON.stringify(hint)}`)
  t.equal(conditionForStatus(418), 'http_client_error')
  for (const [code, condition] of [
    ['ECONNREFUSED', 'connect_refused'],
    ['UND_ERR_CONNECT_TIMEOUT', 'connect_timeout'],
    ['ETIMEDOUT', 'connect_timeout'],
    ['ENOTFOUND', 'dns_failure'],
    ['EAI_AGAIN', 'dns_failure'],
    ['ECONNRESET', 'stale_socket'],
    [undefined, 'stale_socket'],
  ] as const) {
    t.equal(conditionForTransport(code), condition, String(code))
  }
})

t.test('messages are redacted and cut to 512 characters', async (t) => {
  t.equal(workerMessage('failed: Authorization: Bearer abc.def and sk-secret123456'), 'failed: Authorization: Bearer [REDACTED] and sk-[REDACTED]')
  const long = workerMessage('x'.repeat(2000))
  t.equal(long.length, WORKER_MESSAGE_MAX)
  t.ok(long.endsWith('…'))
  t.same(workerError('http_auth', 'openai', 'key sk-abcdefghijkl'), { kind: 'ADAPTER', message: 'key sk-[REDACTED]', retriable: false, engine: 'openai' })
})

const req = (extra: Partial<TaskRequest> = {}): TaskRequest => ({
  task_id: 'task-1',
  session_id: 's',
  workload: 'completion',
  model_ref: 'm',
  engine: 'e',
  ctx: 0,
  priority: 'interactive',
  max_tokens: 1,
  deadline_ms: 1,
  ...extra,
})

t.test('determinism: seed = first 4 bytes of SHA-256(task_id), clamped; profile and digest only when set (ORCH-3277)', async (t) => {
  // sha256("task-1") begins 7afaa346 (`printf task-1 | sha256sum`)
  t.equal(deriveSeed('task-1'), 0x7afaa346)
  const { createHash } = await import('node:crypto')
  t.equal(deriveSeed('task-1'), createHash('sha256').update('task-1').digest().readUInt32BE(0))
  t.equal(deriveSeed('task-1'), deriveSeed('task-1'))
  t.not(deriveSeed('task-1'), deriveSeed('task-2'))
  let max = 0
  for (let i = 0; i < 2000; i++) max = Math.max(max, deriveSeed(`t${i}`))
  t.ok(max <= SEED_MAX)
  t.same(determinismOf(req()), { seed: deriveSeed('task-1'), profile: 'v1', strict: false })
  t.same(determinismOf(req({ seed: 5, determinism: 'strict' }), { sampler_profile_version: 'v1', provisioning: { model: { checksum: 'sha256:x' } } }),
    { seed: 5, profile: 'v1', strict: true, sampler_profile_version: 'v1', model_digest: 'sha256:x' })
  t.same(determinismOf(req({ sampler_profile_version: 'v2' }), { sampler_profile_version: 'v1', provisioning: { model: null } }),
    { seed: deriveSeed('task-1'), profile: 'v2', strict: false, sampler_profile_version: 'v2' })
  t.ok(isKnownProfile('v1'))
  t.notOk(isKnownProfile('v2'))
})

t.test('a stream with no terminal event is one WORKER_RESET, whoever notices it (spec adapters §1.3)', async (t) => {
  t.same(endedWithoutTerminal('vllm'), { kind: 'WORKER_RESET', message: 'the engine stream ended without a terminal event', retriable: false, engine: 'vllm' })
  t.equal(PUBLIC_ERROR_KIND[endedWithoutTerminal('vllm').kind], 'WORKER_RESET')
})
