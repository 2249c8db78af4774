import t from 'tap'
import OpenAI from 'openai'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { f0, poolF0 } from '../../../test/fixtures/dataplane.js'

// Issue 11: the official `openai` SDK (v6, Node 20) against the OpenAI-compatible routes, on the
// admission queue of fixture F0 (mock llama.cpp adapter, model0 on pool0).
const client = (base: string, o: { maxRetries?: number } = {}): OpenAI =>
  new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: o.maxRetries ?? 0, timeout: 10_000 })

t.test('issue 11: models.list and models.retrieve name the model each pool serves', async (t) => {
  const h = await f0(t, { pools: [poolF0(), poolF0('pool1', { model: 'model1', ctx: 4096 })] })
  const sdk = client(h.base)
  const list = await sdk.models.list()
  t.same(list.data.map((m) => m.id), ['model0', 'model1'])
  t.match(list.data[0], { object: 'model', owned_by: 'llama-orch', ready: true, pools: ['pool0'], ctx_max: 32768 })
  t.match(await sdk.models.retrieve('model1'), { id: 'model1', pools: ['pool1'], ctx_max: 4096 })
  await t.rejects(sdk.models.retrieve('nope'), { status: 404, code: 'model_not_found' })
})

t.test('issue 11: with auth on, the SDK\'s apiKey (sent as Authorization: Bearer) is the key', async (t) => {
  const h = await f0(t, { manifest: { auth: { api_keys: ['sk-orch-test-key'] } } })
  const ok = new OpenAI({ baseURL: `${h.base}/v1`, apiKey: 'sk-orch-test-key', maxRetries: 0 })
  t.same((await ok.models.list()).data.map((m) => m.id), ['model0'])
  const wrong = new OpenAI({ baseURL: `${h.base}/v1`, apiKey: 'sk-wrong', maxRetries: 0 })
  const refused = await wrong.models.list().catch((e: unknown) => e)
  t.ok(refused instanceof OpenAI.PermissionDeniedError, 'a wrong key: 403, the SDK\'s PermissionDeniedError')
  t.match(refused, { status: 403 })
})

t.test('issue 11: completions.create is a task on the queue: text, finish_reason, usage and the task id', async (t) => {
  const h = await f0(t, { mock: { tokens: ['4', '5', '6'] } })
  const res = await client(h.base).completions.create({ model: 'model0', prompt: 'Count: 3', max_tokens: 3, temperature: 0, seed: 7 })
  t.equal(res.choices[0]!.text, '456')
  t.equal(res.choices[0]!.finish_reason, 'length', 'the engine stopped at max_tokens')
  t.same(res.usage, { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 })
  const taskId = res.id.replace(/^cmpl-/, '')
  t.equal(h.app.dataplane.task(taskId)?.req.seed, 7, 'the seed reached the task')
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 1, 'admitted like any task')
})

t.test('issue 11: stop sequences reach the engine: the text ends before the first one, finish_reason stop', async (t) => {
  const h = await f0(t, { mock: { tokens: ['4', '5', '6', '7'] } })
  const res = await client(h.base).completions.create({ model: 'model0', prompt: 'Count: 3', max_tokens: 4, stop: ['6', 'x'] })
  t.same([res.choices[0]!.text, res.choices[0]!.finish_reason], ['45', 'stop'])
  t.same(h.app.dataplane.task(res.id.replace(/^cmpl-/, ''))?.req.stop, ['6', 'x'], 'the task carries them')
  const one = await client(h.base).completions.create({ model: 'model0', prompt: 'Count: 3', max_tokens: 4, stop: '5' })
  t.equal(one.choices[0]!.text, '4', 'a single string is one stop sequence')
})

t.test('issue 11: a streamed completion ends with a usage chunk when asked, then [DONE]', async (t) => {
  const h = await f0(t, { mock: { tokens: ['a', 'b'] } })
  const stream = await client(h.base).completions.create({ model: 'model0', prompt: 'x', max_tokens: 2, stream: true, stream_options: { include_usage: true } })
  const chunks: OpenAI.Completion[] = []
  for await (const c of stream) chunks.push(c)
  t.same(chunks.map((c) => c.choices[0]?.text ?? null), ['a', 'b', '', null])
  t.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'length')
  t.same(chunks.at(-1)!.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })
  t.ok(chunks.every((c) => c.id === chunks[0]!.id && c.id.startsWith('cmpl-')), 'one id for the whole stream')
})

t.test('issue 11: honour or reject: a value the engines cannot honour is 400 naming its param; unknown fields too', async (t) => {
  const h = await f0(t, { mock: { honours_sampling: ['temperature'] } })
  const sdk = client(h.base)
  await t.rejects(sdk.completions.create({ model: 'model0', prompt: 'x', temperature: 0.7, top_p: 0.5 }),
    { status: 400, param: 'top_p', message: /\/sampling\/top_p is not honoured by engine llamacpp \(engines that honour it: none here\)/ })
  await t.rejects(sdk.completions.create({ model: 'model0', prompt: 'x', top_k: 5 } as OpenAI.CompletionCreateParamsNonStreaming),
    { status: 400, param: 'top_k', message: /top_k 5 has no effect with greedy decoding/ })
  await t.rejects(sdk.completions.create({ model: 'model0', prompt: 'x', logit_bias: { a: 1 } }), { status: 400, param: 'logit_bias', message: /logit_bias/ })
  await t.rejects(sdk.completions.create({ model: 'model0', prompt: 'x', n: 2 }), { status: 400, param: 'n', message: /n 2 cannot be honoured/ })
  const res = await request(`${h.base}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'model0', prompt: 'x', mirostat: 2 }),
  })
  t.equal(res.statusCode, 400)
  t.same(await res.body.json(), {
    error: { message: 'Unrecognized request argument supplied: mirostat', type: 'invalid_request_error', param: 'mirostat', code: 'unknown_parameter' },
  })
  await t.rejects(sdk.completions.create({ model: 'model9', prompt: 'x' }), { status: 404, code: 'model_not_found', message: /models served here: model0/ })
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 0, 'nothing refused was admitted')
  const ok = await sdk.completions.create({ model: 'model0', prompt: 'x', temperature: 0.7, top_p: 1, presence_penalty: 0, max_tokens: 2 })
  const task = h.app.dataplane.task(ok.id.replace(/^cmpl-/, ''))!
  t.same(task.req.sampling, { temperature: 0.7, top_p: 1, presence_penalty: 0 }, 'what the engine honours reaches the task; neutral values ask nothing')
})

t.test('issue 11: a full queue is 429 with retry-after-ms; the SDK waits the advice and then succeeds', async (t) => {
  const h = await f0(t, { pools: [poolF0('pool0', { queue: { capacity: 1, full_policy: 'reject' } })], mock: { tokens: ['x'] } })
  h.mock.hold()
  t.equal((await h.post(h.task())).status, 202, 'running')
  t.equal((await h.post(h.task())).status, 202, 'queued: the queue is full')
  const refused = await client(h.base).completions.create({ model: 'model0', prompt: 'x', max_tokens: 1 }).catch((e: unknown) => e)
  t.match(refused, { status: 429, code: 'rate_limit_exceeded' })
  const headers = (refused as { headers: Headers }).headers
  t.ok(Number(headers.get('retry-after-ms')) > 0, 'retry-after-ms, which the SDK reads first')
  t.ok(Number(headers.get('retry-after')) >= 1)
  const retried = client(h.base, { maxRetries: 3 }).completions.create({ model: 'model0', prompt: 'x', max_tokens: 1 })
  await sleep(100)
  h.mock.release()
  t.equal((await retried).choices[0]!.text, 'x', 'retried after the advised wait, then served')
})

t.test('issue 11: aborting a streamed completion cancels its task; no token follows', async (t) => {
  const h = await f0(t, { mock: { tokens: ['a', 'b', 'c', 'd', 'e', 'f'], inter_token_ms: 50 } })
  const ac = new AbortController()
  const stream = await client(h.base).completions.create({ model: 'model0', prompt: 'x', max_tokens: 6, stream: true }, { signal: ac.signal })
  let seen = 0
  let id = ''
  try {
    for await (const c of stream) { id = c.id; if (++seen === 1) ac.abort() }
  } catch { /* the SDK may end an aborted stream by throwing or by returning */ }
  t.equal(seen, 1, 'no chunk reached the client after its abort')
  const task = h.app.dataplane.task(id.replace(/^cmpl-/, ''))!
  for (let i = 0; i < 100 && !task.canceled; i++) await sleep(10)
  t.ok(task.canceled, 'the task was canceled')
  const after = task.tokensOut
  await sleep(200)
  t.equal(task.tokensOut, after, 'no token after the cancel')
  t.ok(task.tokensOut < 6)
  t.equal(await h.metric(/^tasks_canceled_total\{.*reason="client"/), 1)
})
