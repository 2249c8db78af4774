import t from 'tap'
import { f0, poolF0 } from '../../../test/fixtures/dataplane.js'

const draining = { state: 'Draining', draining: true, health: { live: true, ready: false } } as const

t.test('drain: a task queued on the pool moves to another Ready pool serving the model and completes there (spec §3)', async (t) => {
  const h = await f0(t, { pools: [poolF0('a'), poolF0('b')] })
  const reg = h.app.pool.registry
  reg.upsert('b', { state: 'Unready', health: { live: true, ready: false } })
  h.mocks.a!.hold()
  await h.post(h.task()) // holds a's only slot
  const queued = h.task()
  t.equal((await h.post(queued)).status, 202)
  t.equal(h.app.dataplane.inspect().queue('a')!.len(), 1, 'queued behind the running task')
  reg.upsert('a', draining)
  reg.upsert('b', { state: 'Ready', health: { live: true, ready: true } })
  h.app.dataplane.sweep()
  t.equal(h.app.dataplane.inspect().queue('a')!.len(), 0, 'gone from the draining pool')
  const s = await h.stream(queued.task_id as string)
  t.equal(s.frames.at(-1)!.event, 'end', 'and served by the other pool')
  t.match(h.capture.find({ action: 're-place' })[0], { target: queued.task_id, from_pool: 'a', pool_id: 'b' })
  h.mocks.a!.release()
})

t.test('drain with no other pool: the task waits while the drain lasts, then fails POOL_UNREADY (retriable) once the pool stopped', async (t) => {
  const h = await f0(t)
  const reg = h.app.pool.registry
  h.mock.hold()
  await h.post(h.task())
  const queued = h.task()
  await h.post(queued)
  reg.upsert('pool0', draining)
  h.app.dataplane.sweep()
  t.equal(h.app.dataplane.inspect().queue('pool0')!.len(), 1, 'still queued while the drain lasts')
  reg.upsert('pool0', { state: 'Stopped' })
  h.app.dataplane.sweep()
  t.equal(h.app.dataplane.inspect().queue('pool0')!.len(), 0)
  const s = await h.stream(queued.task_id as string)
  t.match(s.frames.at(-1), { event: 'error', json: { code: 'POOL_UNREADY', message: /pool pool0 was drained/ } })
  h.mock.release()
})

t.test('drain: a full queue on the other pool leaves the task where it is', async (t) => {
  const h = await f0(t, { pools: [poolF0('a'), poolF0('b', { queue: { capacity: 1, full_policy: 'reject' } })] })
  const reg = h.app.pool.registry
  reg.upsert('a', { state: 'Unready', health: { live: true, ready: false } })
  h.mocks.b!.hold()
  await h.post(h.task())
  await h.post(h.task()) // b: one running, one queued: its queue is full
  reg.upsert('a', { state: 'Ready', health: { live: true, ready: true } })
  h.mocks.a!.hold()
  await h.post(h.task())
  const queued = h.task()
  await h.post(queued)
  t.equal(h.app.dataplane.inspect().queue('a')!.len(), 1)
  reg.upsert('a', draining)
  h.app.dataplane.sweep()
  t.equal(h.app.dataplane.inspect().queue('a')!.len(), 1, 'no room on b: stays queued on a')
  t.equal(h.app.dataplane.inspect().queue('b')!.len(), 1)
  h.mocks.a!.release()
  h.mocks.b!.release()
})
