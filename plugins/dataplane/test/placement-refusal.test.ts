import t from 'tap'
import { f0, poolF0 } from '../../../test/fixtures/dataplane.js'

t.test('issue 10 #10: sampler_profile_version "v1" (the default profile) places on a Ready pool that names no profile', async (t) => {
  const h = await f0(t)
  const res = await h.post(h.task({ sampler_profile_version: 'v1' }))
  t.equal(res.status, 202, 'v1 is what the pool samples with')
  h.mock.release()
})

t.test('issue 10 #10: a profile no pool serves is 400 with the pool\'s reason, no Retry-After; the decision is narrated', async (t) => {
  const h = await f0(t, { pools: [poolF0(), poolF0('pool1', { model: 'model1' })] })
  const body = h.task({ sampler_profile_version: 'v2' })
  const res = await h.post(body)
  t.equal(res.status, 400)
  t.match(res.json, { code: 'INVALID_PARAMS', retriable: false, pool_id: 'pool0' })
  t.equal(res.json.message,
    'no pool serving model model0 on engine llamacpp can ever take this task: pool0 serves sampler profile v1, not v2; change the request')
  t.notOk(res.headers['retry-after'])
  t.match(h.capture.find({ action: 'placement', task_id: body.task_id })[0], {
    correlation_id: res.headers['x-correlation-id'],
    code: 'INVALID_PARAMS',
    transient: false,
    reasons: { pool0: 'serves sampler profile v1, not v2', pool1: 'serves model model1' },
  })
  const ok = h.task()
  t.equal((await h.post(ok)).status, 202)
  t.match(h.capture.find({ action: 'placement', task_id: ok.task_id })[0], { pool_id: 'pool0', affinity: false, human: /places task .* on pool0/ })
  h.mock.release()
})

t.test('issue 10 #10: a pool that is only restarting gives 503 POOL_UNREADY with Retry-After and its reason', async (t) => {
  const h = await f0(t)
  h.app.pool.registry.upsert('pool0', { state: 'Backoff', health: { live: false, ready: false } })
  const res = await h.post(h.task())
  t.equal(res.status, 503)
  t.match(res.json, { code: 'POOL_UNREADY', retriable: true, retry_after_ms: 1000, message: /pool0 is down or its heartbeat is stale; retry later/ })
  t.equal(res.headers['retry-after'], '1')
})
