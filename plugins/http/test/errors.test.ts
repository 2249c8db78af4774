import t, { type Test } from 'tap'
import Fastify from 'fastify'
import { ApiError, retryAfterSeconds, ERROR_KINDS } from '../../../sdk/api.js'
import { apiErrorHandler, describeValidation } from '../error-handler.js'

async function app (t: Test) {
  const a = Fastify({ logger: false, bodyLimit: 1024, ajv: { customOptions: { allErrors: true } } })
  a.setErrorHandler(apiErrorHandler)
  a.post('/tasks', {
    schema: {
      body: {
        type: 'object',
        required: ['task_id', 'ctx', 'priority'],
        properties: {
          task_id: { type: 'string', format: 'uuid' },
          ctx: { type: 'integer', minimum: 0 },
          priority: { enum: ['interactive', 'batch'] },
          engine: { type: 'string' },
        },
      },
    },
  }, async () => ({ ok: true }))
  a.get('/busy', async () => {
    throw new ApiError('ADMISSION_REJECT', 'queue full', { engine: 'vllm', retry_after_ms: 1500, policy_label: 'reject', pool_id: 'p0' })
  })
  a.get('/missing', async () => { throw new ApiError('INVALID_PARAMS', 'unknown task', { status: 404 }) })
  a.post('/retired', async () => { throw new ApiError('MODEL_DEPRECATED', 'model m0 is Retired') })
  a.get('/bug', async () => { throw new Error('secret internals at /home/x') })
  t.teardown(() => a.close())
  return a
}

t.test('the ErrorKind table of spec §1.5', async (t) => {
  t.same(Object.fromEntries(Object.entries(ERROR_KINDS).map(([k, v]) => [k, [v.status, v.retriable]])), {
    ADMISSION_REJECT: [429, true],
    QUEUE_FULL_DROP_LRU: [429, true],
    INVALID_PARAMS: [400, false],
    DEADLINE_UNMET: [400, false],
    POOL_UNREADY: [503, true],
    POOL_UNAVAILABLE: [503, true],
    REPLICA_EXHAUSTED: [503, true],
    DECODE_TIMEOUT: [500, true],
    WORKER_RESET: [500, true],
    INTERNAL: [500, false],
    MODEL_DEPRECATED: [403, false],
    UNTRUSTED_ARTIFACT: [400, false],
  })
})

t.test('Retry-After is whole seconds, rounded up, at least 1 (decision 6)', async (t) => {
  t.same([0, 1, 999, 1000, 1001, 1500, 2000].map(retryAfterSeconds), [1, 1, 1, 1, 2, 2, 2])
})

t.test('an ApiError becomes its envelope with backoff headers', async (t) => {
  const a = await app(t)
  const res = await a.inject({ url: '/busy' })
  t.equal(res.statusCode, 429)
  t.equal(res.headers['retry-after'], '2')
  t.equal(res.headers['x-backoff-ms'], '1500')
  t.same(res.json(), {
    code: 'ADMISSION_REJECT',
    message: 'queue full',
    engine: 'vllm',
    retriable: true,
    retry_after_ms: 1500,
    policy_label: 'reject',
    pool_id: 'p0',
  })
  const missing = await a.inject({ url: '/missing' })
  t.equal(missing.statusCode, 404, 'the status can be overridden (unknown task, D12)')
  t.same(missing.json(), { code: 'INVALID_PARAMS', message: 'unknown task', retriable: false })
  t.notOk(missing.headers['retry-after'])
  const retired = await a.inject({ method: 'POST', url: '/retired', payload: { engine: 'llamacpp' } })
  t.same([retired.statusCode, retired.json().engine], [403, 'llamacpp'], 'the engine of the body is added')
})

t.test('schema failures are 400 INVALID_PARAMS naming each field, with the engine when known', async (t) => {
  const a = await app(t)
  const res = await a.inject({ method: 'POST', url: '/tasks', payload: { task_id: 'not-a-uuid', ctx: -1, priority: 'urgent', engine: 'tgi' } })
  t.equal(res.statusCode, 400)
  const body = res.json()
  t.equal(body.code, 'INVALID_PARAMS')
  t.equal(body.engine, 'tgi')
  t.equal(body.retriable, false)
  t.match(body.message, /body\/task_id must match format "uuid"/)
  t.match(body.message, /body\/ctx must be >= 0/)
  t.match(body.message, /body\/priority must be equal to one of the allowed values \(interactive, batch\)/)
  const missing = await a.inject({ method: 'POST', url: '/tasks', payload: { ctx: 0, priority: 'batch' } })
  t.match(missing.json().message, /body\/task_id is required/)
  t.notOk(missing.json().engine, 'no engine when the body has none')
})

t.test('malformed JSON, oversized bodies, a missing content type are the client\'s fault: INVALID_PARAMS 400/413/415 (§1.1, issue 10 #9)', async (t) => {
  const a = await app(t)
  const bad = await a.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: '{"task_id":' })
  t.same([bad.statusCode, bad.json().code], [400, 'INVALID_PARAMS'])
  const big = await a.inject({
    method: 'POST',
    url: '/tasks',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ x: 'y'.repeat(4096) }),
  })
  t.same([big.statusCode, big.json().code], [413, 'INVALID_PARAMS'])
  t.match(big.json().message, /over this route's limit of 1024 bytes/)
  const untyped = await a.inject({ method: 'POST', url: '/tasks', payload: Buffer.from('{"ctx":0}') })
  t.same([untyped.statusCode, untyped.json().code], [415, 'INVALID_PARAMS'], 'no content type')
  t.match(untyped.json().message, /Content-Type: application\/json/)
})

t.test('an unexpected exception is 500 INTERNAL without its internals', async (t) => {
  const a = await app(t)
  const res = await a.inject({ url: '/bug' })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { code: 'INTERNAL', message: 'internal error; the cause is in the server log under this correlation id', retriable: false })
  t.notMatch(res.body, /secret internals/)
})

t.test('describeValidation tolerates sparse items', async (t) => {
  t.equal(describeValidation([{}, {}], 'body'), 'body/ is invalid')
})
