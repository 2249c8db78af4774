import t from 'tap'
import { f0, poolF0 } from '../../../test/fixtures/dataplane.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const depth = (h: Awaited<ReturnType<typeof f0>>): number => h.app.dataplane.inspect().queue('pool0')!.len()

t.test('issue 11 item 4: a body of model_ref and prompt is admitted, every other field filled in', async (t) => {
  const h = await f0(t)
  const res = await h.post({ model_ref: 'model0', prompt: 'Hi' })
  t.equal(res.status, 202)
  t.match(res.json.task_id, UUID, 'the server generated the task id')
  t.equal(res.headers.location, `/v1/tasks/${res.json.task_id}/stream`, 'Location names the stream')
  const task = h.app.dataplane.task(res.json.task_id as string)!
  const { session_id: sessionId, task_id: taskId, ...rest } = task.req
  t.equal(taskId, res.json.task_id)
  t.match(sessionId, UUID, 'a fresh session')
  t.same(rest, {
    workload: 'completion', model_ref: 'model0', engine: 'llamacpp', ctx: 0, priority: 'interactive', prompt: 'Hi', max_tokens: 256, deadline_ms: 60_000,
  }, 'defaults: completion, the one engine serving model0, ctx 0, interactive, tasks.default_max_tokens 256, tasks.default_deadline_ms 60000')
  const s = await h.stream(taskId)
  t.same(s.frames.map((f) => f.event), ['started', 'token', 'token', 'metrics', 'end'], 'it streams as a full body does')
  t.match((await h.call('GET', `/v1/sessions/${sessionId}`)).json, { turns: 1 }, 'the generated session holds this one task')
  const other = await h.post({ model_ref: 'model0', prompt: 'Hi' })
  t.not(other.json.task_id, taskId, 'each sparse body is a new task')
  t.not(h.app.dataplane.task(other.json.task_id as string)!.req.session_id, sessionId, 'in a session of its own')
})

t.test('issue 11 item 4: a full body is taken as sent (backward compatible), with Location added', async (t) => {
  const h = await f0(t)
  const body = h.task({ max_tokens: 2, deadline_ms: 5000, ctx: 64, priority: 'batch' })
  const res = await h.post(body)
  t.equal(res.status, 202)
  t.same(Object.keys(res.json).sort(), ['backoff_ms', 'predicted_start_ms', 'queue_position', 'task_id'], 'the 202 body is unchanged')
  t.equal(res.headers.location, `/v1/tasks/${body.task_id}/stream`)
  t.same(h.app.dataplane.task(body.task_id as string)!.req, body, 'nothing filled over what the client sent')
})

t.test('issue 11 item 4, D11: replay compares the filled-in request', async (t) => {
  const h = await f0(t)
  h.mock.hold()
  const taskId = '00000000-0000-4000-8000-0000000000a1'
  const sparse = { task_id: taskId, model_ref: 'model0', prompt: 'Hi' }
  const first = await h.post(sparse)
  t.equal(first.status, 202)
  const again = await h.post(sparse)
  t.equal(again.status, 202, 'the same sparse body replays')
  t.same(again.json, first.json, 'the first 202')
  t.equal(again.headers.location, first.headers.location)
  const spelled = await h.post({ ...sparse, workload: 'completion', engine: 'llamacpp', ctx: 0, priority: 'interactive', max_tokens: 256, deadline_ms: 60_000 })
  t.same(spelled.json, first.json, 'the same body with the defaults written out replays too')
  const changed = await h.post({ ...sparse, max_tokens: 8 })
  t.equal(changed.status, 400, 'another max_tokens is another body')
  t.match(changed.json.message, /\/task_id 00000000-0000-4000-8000-0000000000a1 already exists with a different body/)
  const generated = h.app.dataplane.task(taskId)!.req.session_id
  const withSession = await h.post({ ...sparse, session_id: generated })
  t.equal(withSession.status, 400, 'a generated session id takes no part: naming one is another body')

  const full = h.task()
  t.equal((await h.post(full)).status, 202)
  const { workload: _w, ctx: _c, priority: _p, engine: _e, ...lean } = full
  t.equal((await h.post(lean)).status, 202, 'a full body resubmitted without the fields equal to their defaults replays')
  const { session_id: _s, ...noSession } = full
  const refused = await h.post(noSession)
  t.equal(refused.status, 400, 'leaving out an explicit session_id asks for a fresh session: another body')
  t.equal(depth(h), 1, 'two tasks admitted, one running and one queued; nothing else enqueued')
  h.mock.release()
})

t.test('issue 11 item 4: the engine is inferred only when exactly one engine serves model_ref', async (t) => {
  const h = await f0(t, {
    manifest: { adapters: [{ package: 'mock-llamacpp', options: { engines: ['llamacpp', 'vllm'] } }] },
    pools: [poolF0(), poolF0('pool1', { engine: 'vllm' }), poolF0('pool2', { engine: 'vllm', model: 'model2' })],
  })
  const two = await h.post({ model_ref: 'model0', prompt: 'Hi' })
  t.equal(two.status, 400)
  t.match(two.json, { code: 'INVALID_PARAMS', message: /^\/engine is required: model_ref "model0" is served by several engines \(llamacpp, vllm\)/ })
  t.equal((await h.post({ model_ref: 'model0', prompt: 'Hi', engine: 'vllm' })).status, 202, 'naming the engine settles it')
  const one = await h.post({ model_ref: 'model2', prompt: 'Hi' })
  t.equal(one.status, 202)
  t.equal(h.app.dataplane.task(one.json.task_id as string)!.req.engine, 'vllm')
  const none = await h.post({ model_ref: 'model9', prompt: 'Hi' })
  t.equal(none.status, 400, 'a model no pool serves: the placement refusal\'s words, naming /model_ref')
  t.match(none.json.message, /^\/model_ref: no pool serves model "model9" \(configured: pool0 serves model model0 on engine llamacpp; pool1/)
})

t.test('issue 11 item 4: a refusal caused by a default says it is the server default', async (t) => {
  const h = await f0(t, { pools: [poolF0('pool0', { ctx: 128 })] })
  const res = await h.post({ model_ref: 'model0', prompt: 'Hi' })
  t.equal(res.status, 400)
  t.match(res.json.message, /^\/max_tokens 256 \(the server default tasks.default_max_tokens; send max_tokens to choose\) plus ~1 prompt tokens exceed ctx_max 128/)
  t.equal((await h.post({ model_ref: 'model0', prompt: 'Hi', max_tokens: 16 })).status, 202)
  const stillRequired = await h.post({ prompt: 'Hi' })
  t.equal(stillRequired.status, 400)
  t.match(stillRequired.json.message, /\/model_ref/, 'model_ref is the one required field')
  const noPrompt = await h.post({ model_ref: 'model0' })
  t.match(noPrompt.json.message, /\/prompt is required and must be non-empty for workload completion/, 'completion (the default) still needs a prompt')
})

t.test('issue 11 item 4: tasks.default_max_tokens and tasks.default_deadline_ms from the manifest', async (t) => {
  const h = await f0(t, { manifest: { tasks: { default_max_tokens: 7, default_deadline_ms: 1234 } } })
  const res = await h.post({ model_ref: 'model0', prompt: 'Hi' })
  t.equal(res.status, 202)
  t.match(h.app.dataplane.task(res.json.task_id as string)!.req, { max_tokens: 7, deadline_ms: 1234 })
})
