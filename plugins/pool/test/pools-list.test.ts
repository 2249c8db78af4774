import t from 'tap'
import { f0, poolF0 } from '../../../test/fixtures/dataplane.js'

t.test('issue 11 item 4: GET /v1/pools lists the pools and the model names they answer to', async (t) => {
  const h = await f0(t, { pools: [poolF0(), poolF0('pool1', { model: 'model1', ctx: 4096, slots_total: 2 })] })
  h.app.pool.registry.upsert('pool1', { state: 'Preloading', health: { live: true, ready: false }, last_error: 'boom at /secret/path' })
  h.mock.hold()
  await h.post(h.task())
  await h.post(h.task())
  const res = await h.call('GET', '/v1/pools')
  t.equal(res.status, 200)
  const common = { engine: 'llamacpp', draining: false, slots_free: 0 }
  t.same(res.json, {
    items: [
      { ...common, id: 'pool0', model: 'model0', state: 'Ready', ready: true, slots_total: 1, queue_depth: 1, ctx_max: 32768 },
      { ...common, id: 'pool1', model: 'model1', state: 'Preloading', ready: false, slots_total: 2, queue_depth: 0, ctx_max: 4096 },
    ],
  }, 'one running task holds pool0\'s slot, one waits; pool1 ctx_max is its configured ctx (tighter than the engine)')
  t.notMatch(res.body, /last_error|secret|provisioning/, 'no errors or paths: those stay on /v1/pools/{id}/health')
  h.mock.release()
  const [first] = res.json.items as Array<{ model: string }>
  const task = await h.post({ model_ref: first!.model, prompt: 'Hi' })
  t.equal(task.status, 202, 'the listed model is a model_ref a task can name')
})
