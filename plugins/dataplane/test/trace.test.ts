import t from 'tap'
import { f0 } from '../../../test/fixtures/dataplane.js'

async function traceIdOf (h: Awaited<ReturnType<typeof f0>>, taskId: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const id = h.app.dataplane.task(taskId)?.traceId
    if (id) return id
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error('no trace artifact was stored')
}

t.test('A6: a finished stream leaves a trace artifact with its frames, tags and engine metadata', async (t) => {
  const h = await f0(t)
  const body = h.task({ max_tokens: 2 })
  await h.post(body)
  const s = await h.stream(body.task_id as string)
  const id = await traceIdOf(h, body.task_id as string)
  t.match(id, /^sha256:[0-9a-f]{64}$/)
  const res = await h.call('GET', `/v1/artifacts/${encodeURIComponent(id)}`)
  t.equal(res.status, 200)
  const events = (res.json.content as { events: Array<{ type: string, data: Record<string, unknown> }> }).events
  t.same(events.map((e) => e.type), s.frames.map((f) => f.event), 'the same frames, in order')
  t.same(events.map((e) => e.type), ['started', 'token', 'token', 'metrics', 'end'])
  t.same(events[1]!.data, { t: 'Hello', i: 0 })
  t.same(res.json.tags, ['sse', 'stream', `task:${body.task_id}`, `session:${body.session_id}`])
  t.match(res.json.metadata, { engine: 'llamacpp', pool_id: 'pool0', replica_id: 'r0' })
  t.equal(res.json.kind, 'trace')
})

t.test('canceled and failed tasks get a trace too; tasks.trace_artifacts: false turns them off', async (t) => {
  const h = await f0(t, { mock: { hang_after_tokens: 1 } })
  const body = h.task({ max_tokens: 4 })
  await h.post(body)
  await h.call('POST', `/v1/tasks/${body.task_id}/cancel`)
  const id = await traceIdOf(h, body.task_id as string)
  const res = await h.call('GET', `/v1/artifacts/${encodeURIComponent(id)}`)
  t.match((res.json.content as { events: Array<{ type: string, data: unknown }> }).events.at(-1), { type: 'end', data: { canceled: true } })

  const off = await f0(t, { manifest: { tasks: { trace_artifacts: false } } })
  const b2 = off.task()
  await off.post(b2)
  await off.stream(b2.task_id as string)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(off.app.dataplane.task(b2.task_id as string)?.traceId, undefined)
})

t.test('a store that fails is narrated and changes nothing for the client', async (t) => {
  const h = await f0(t)
  h.app.artifacts.put = async () => { throw new Error('disk full') }
  const body = h.task()
  await h.post(body)
  const s = await h.stream(body.task_id as string)
  t.equal(s.frames.at(-1)!.event, 'end')
  for (let i = 0; i < 100 && h.capture.find({ action: 'error', target: body.task_id }).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  t.match(h.capture.find({ action: 'error', target: body.task_id })[0], { error: 'disk full', human: `cannot store the trace of task ${body.task_id}` })
})
