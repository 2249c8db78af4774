import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { f0 } from '../../../test/fixtures/dataplane.js'
import { UNREACHABLE_HOLD_MS } from '../runner.js'

/** Polls until `check` holds (real time; the sweep runs every 20 ms here). */
async function until (check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(10)
  }
}

const fastSweep = { tasks: { sweep_interval_ms: 20 } }

t.test('issue 10 #2: a task dispatched to an engine that cannot be reached waits at the head of its queue for the restart, then runs', async (t) => {
  const h = await f0(t, { manifest: fastSweep, mock: { tokens: ['a', 'b'] } })
  let calls = 0
  h.mock.plan = () => ++calls === 1 ? { fail_before_start: 'POOL_UNAVAILABLE' } : {}
  const first = h.task({ max_tokens: 2, deadline_ms: 60_000 })
  const second = h.task({ max_tokens: 2, deadline_ms: 60_000 })
  t.equal((await h.post(first)).status, 202)
  await until(() => h.capture.find({ action: 'requeue', task_id: first.task_id }).length === 1)
  t.equal((await h.post(second)).status, 202)
  const q = h.app.dataplane.inspect().queue('pool0')!
  t.same(q.snapshot('interactive'), [first.task_id, second.task_id], 'the requeued task is first in line, the later one behind it')
  t.equal(h.app.pool.registry.getActiveLeases('pool0'), 0, 'its slot was given back')
  await sleep(100)
  t.equal(calls, 1, 'the pool is held: no dispatch before the hold ends')
  h.clock.advance(UNREACHABLE_HOLD_MS)
  const s = await h.stream(first.task_id as string)
  t.same(s.frames.map((f) => f.event).filter((e) => e !== 'metrics'), ['started', 'token', 'token', 'end'], 'one started, the tokens, one end')
  t.equal((await h.stream(second.task_id as string)).frames.at(-1)!.event, 'end', 'the next task runs after it')
  t.match(h.capture.find({ action: 'requeue', task_id: first.task_id })[0], {
    correlation_id: /./, pool_id: 'pool0', requeues: 1, hold_ms: UNREACHABLE_HOLD_MS, cause: /secret cause 42/,
  })
})

t.test('issue 10 #2: an engine that stays unreachable ends the task at its deadline, and no engine text or address reaches the client', async (t) => {
  const h = await f0(t, { manifest: fastSweep })
  h.mock.plan = () => ({ fail_before_start: 'POOL_UNAVAILABLE' })
  const body = h.task({ deadline_ms: 2000 })
  await h.post(body)
  await until(() => h.capture.find({ action: 'requeue', task_id: body.task_id }).length === 1)
  h.clock.advance(UNREACHABLE_HOLD_MS)
  await until(() => h.capture.find({ action: 'requeue', task_id: body.task_id }).length === 2)
  h.clock.advance(2000)
  const s = await h.stream(body.task_id as string)
  t.match(s.frames.at(-1), { event: 'error', json: { code: 'DEADLINE_UNMET' } }, 'it waited within its deadline, then ended')
  t.notMatch(s.raw, /secret cause|127\.0\.0\.1|http:\/\//, 'the stream carries no engine text')
})

t.test('issue 10 #2: a pool-side failure the task cannot wait for (past its deadline) is POOL_UNAVAILABLE without the engine\'s text', async (t) => {
  const h = await f0(t)
  h.mock.plan = () => ({ fail_before_start: 'POOL_UNAVAILABLE' })
  const body = h.task({ deadline_ms: UNREACHABLE_HOLD_MS })
  await h.post(body)
  const s = await h.stream(body.task_id as string)
  t.match(s.frames.at(-1), { event: 'error', json: { code: 'POOL_UNAVAILABLE', message: /the engine of pool pool0 could not be reached; retry later \(the cause is in the server log under correlation id / } })
  t.notMatch(s.raw, /secret cause/)
  t.match(h.capture.find({ actor: 'orchestratord', action: 'error', task_id: body.task_id, error_kind: 'POOL_UNAVAILABLE' })[0], { correlation_id: /./, cause: /secret cause 42/ })
})
