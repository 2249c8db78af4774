import t from 'tap'
import type { Test } from 'tap'
import { collect, taskRequest } from '../../../test/helpers/adapter-conformance.js'
import { bindingFor, kitAdapter } from '../../../test/helpers/conformance-targets.js'
import { fakeVllm, VLLM_VERSION } from '../../../test/fixtures/engines/openai-compat.js'
import { FakeEngine, json } from '../../../test/fixtures/engines/fake-engine.js'
import { build } from '../../../test/helpers/build.js'
import { deriveSeed } from '../../../sdk/determinism.js'
import { VLLM_SAMPLING, VllmOptions, vllmProtocol } from '../vllm.js'
import { SAMPLING_PARAMS } from '../../../sdk/sampling.js'
import { openAiStream } from '../../../lib/adapter-kit/openai-stream.js'
import { fakeVector } from '../../../test/fixtures/engines/embeddings.js'

const opts = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 10_000, poolId: 'p0', replicaId: 'r0' })

async function setup (t: Test, options: Record<string, unknown> = {}, url?: string) {
  const fake = await fakeVllm()
  const { adapter, close } = kitAdapter('vllm', VllmOptions, vllmProtocol, options)(url ?? fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  return { fake, adapter }
}

t.test('completions body: profile v1 (temperature 0, top_p 1, seed), usage requested; tokens_in/out from usage', async (t) => {
  const { fake, adapter } = await setup(t)
  const r = taskRequest('vllm', { prompt: 'Count: 3', max_tokens: 3 })
  const events = await collect(adapter.submit(r, opts()))
  t.match(fake.hits('/v1/completions')[0]!.body, {
    model: 'tiny',
    prompt: 'Count: 3',
    max_tokens: 3,
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0,
    top_p: 1,
    seed: deriveSeed(r.task_id),
  })
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'length', tokens_out: 3, tokens_in: 2 } })
  t.match(events[0], { kind: 'started', data: { engine_version: VLLM_VERSION } })
})

t.test('chat api: messages and delta.content; the role-only first chunk adds no token', async (t) => {
  const { fake, adapter } = await setup(t, { api: 'chat', served_model: 'served-x' })
  const events = await collect(adapter.submit(taskRequest('vllm', { prompt: 'hi' }), opts()))
  t.match(fake.hits('/v1/chat/completions')[0]!.body, { model: 'served-x', messages: [{ role: 'user', content: 'hi' }] })
  t.equal(events.filter((e) => e.kind === 'token').length, 5)
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'eos', tokens_out: 5 } })
})

t.test('props, capabilities and the kv scrape; max_num_seqs is the slot count', async (t) => {
  const { adapter } = await setup(t, { max_num_seqs: 16 })
  t.same(await adapter.props(), { slots_total: 16, slots_free: null, ctx_max: 4096, engine_version: VLLM_VERSION })
  t.match(await adapter.capabilities!(), { ctx_max: 4096, engine_version: VLLM_VERSION, features: { batching: 'continuous' } })
  t.same(await adapter.scrapeMetrics!(), { kv_cache_usage_ratio: 0.125 })
  t.equal(await adapter.engineVersion(), VLLM_VERSION)
})

t.test('odd servers: no /version, empty model list, /metrics 404, inputs instead of prompt', async (t) => {
  const fake = await FakeEngine.start({
    'GET /v1/models': (_q, res) => json(res, 200, {}),
    'GET /version': (_q, res) => json(res, 200, {}),
    'POST /v1/completions': (_q, res, _b, f) => f.generate(res, {
      token: (x) => `data: {"choices":[{"text":${JSON.stringify(x)}}]}\n\n`,
      final: () => 'data: {"choices":[{"text":"","finish_reason":"stop","stop_reason":"###"}]}\n\n',
      error: () => '',
    }),
  })
  const { adapter, close } = kitAdapter('vllm', VllmOptions, vllmProtocol)(fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  t.same(await adapter.props(), { slots_total: null, slots_free: null, ctx_max: null, engine_version: null })
  await t.rejects(adapter.engineVersion(), /no version/)
  t.same(await adapter.scrapeMetrics!(), {})
  const events = await collect(adapter.submit({ ...taskRequest('vllm'), prompt: undefined, inputs: ['a'] } as never, opts()))
  t.equal(fake.hits('/v1/completions')[0]!.body.prompt, 'a')
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'stop', tokens_out: 5 } }, 'a stop string, no [DONE]: still an end')
  const bare = await collect(adapter.submit({ ...taskRequest('vllm'), prompt: undefined } as never, opts()))
  t.ok(bare.length > 0)
})

t.test('the OpenAI-compatible decoder: error objects, other finish reasons, EOF before finishing', async (t) => {
  const s = openAiStream({ engine: 'x', api: 'completions', path: '/', body: {}, stopMeans: 'stop' })
  const got: unknown[] = []
  const sink = {
    token: (x: string) => { got.push(['token', x]) },
    metrics: (m: unknown) => { got.push(['metrics', m]) },
    end: (i: unknown) => { got.push(['end', i]) },
    fail: (c: string, m: string) => { got.push(['fail', c, m]) },
  }
  s.frame('{"object":"error","message":"bad","type":"BadRequestError","code":400}', 'message', sink)
  s.frame('{"choices":[{"text":"a","finish_reason":"content_filter"}],"usage":{"prompt_tokens":1}}', 'message', sink)
  s.frame('{"choices":[],"usage":{"completion_tokens":1}}', 'message', sink)
  s.frame('[DONE]', 'message', sink)
  t.same(got, [
    ['fail', 'stream_error_frame', 'x reported an error mid-stream: bad'],
    ['token', 'a'],
    ['metrics', { finish_reason: 'content_filter' }],
    ['end', { stop_reason: 'stop', tokens_out: 1, tokens_in: 1 }],
  ])
  const early = openAiStream({ engine: 'x', api: 'chat', path: '/', body: {}, stopMeans: 'stop' })
  const fails: string[] = []
  early.frame('{"choices":[{"delta":{}}]}', 'message', { ...sink, fail: (c: string) => { fails.push(c) } })
  early.eof!({ ...sink, fail: (c: string) => { fails.push(c) } })
  t.same(fails, ['reset_after_headers'])
  const stop = openAiStream({ engine: 'x', api: 'chat', path: '/', body: {}, stopMeans: 'stop' })
  const ends: unknown[] = []
  stop.frame('{"choices":[{"delta":{"content":"z"},"finish_reason":"stop"}]}', 'message', sink)
  stop.frame('[DONE]', 'message', { ...sink, end: (i: unknown) => { ends.push(i) } })
  t.match(ends, [{ stop_reason: 'stop' }])
})

t.test('the built-in `vllm` adapter loads from the manifest', async (t) => {
  const { app } = await build(t, {
    adapters: ['vllm'],
    pools: [{ id: 'v0', engine: 'vllm', model: 'tiny', devices: [], provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1] } }],
  })
  t.same(app.adapters.engines(), ['vllm'])
  const a = app.adapters.get('vllm')!.create(bindingFor('vllm', 'http://127.0.0.1:1'))
  t.equal(a.engine, 'vllm')
  await a.close()
})

t.test('issue 11: stop sequences go to vLLM as `stop`; none sends no field, and the capability says it honours them', async (t) => {
  const { fake, adapter } = await setup(t)
  await collect(adapter.submit(taskRequest('vllm', { prompt: 'Count: 3', max_tokens: 3, stop: ['6'] }), opts()))
  t.same(fake.hits('/v1/completions')[0]!.body.stop, ['6'])
  await collect(adapter.submit(taskRequest('vllm', { prompt: 'Count: 3', max_tokens: 3 }), opts()))
  t.notOk('stop' in fake.hits('/v1/completions')[1]!.body)
  t.match(await adapter.capabilities!(), { features: { stop: true } })
})

t.test('issue 11: sampling reaches vLLM in its OpenAI fields (repeat_penalty as repetition_penalty, formats as response_format)', async (t) => {
  const { fake, adapter } = await setup(t)
  const sampling = { temperature: 0.7, top_p: 0.9, top_k: 20, min_p: 0.1, presence_penalty: 0.5, frequency_penalty: 0.5, logit_bias: { 7: 5 } }
  await collect(adapter.submit(taskRequest('vllm', { prompt: 'x', max_tokens: 3, sampling: { ...sampling, repeat_penalty: 1.2 } }), opts()))
  const body = fake.hits('/v1/completions')[0]!.body
  t.match(body, { ...sampling, repetition_penalty: 1.2 })
  t.notOk('repeat_penalty' in body)
  await collect(adapter.submit(taskRequest('vllm', {
    prompt: 'x', max_tokens: 3, sampling: { response_format: { type: 'json_schema', schema: { type: 'object' } } },
  }), opts()))
  t.match(fake.hits('/v1/completions')[1]!.body, {
    temperature: 0, top_p: 1, response_format: { type: 'json_schema', json_schema: { name: 'output', schema: { type: 'object' }, strict: true } },
  })
  t.same((await adapter.capabilities!()).features?.sampling, VLLM_SAMPLING)
  t.same([...VLLM_SAMPLING].sort(), [...SAMPLING_PARAMS].sort(), 'vLLM honours every parameter')
})

t.test('issue 11: an embedding task goes to vLLM\'s /v1/embeddings with the model; vectors back in input order', async (t) => {
  const { fake, adapter } = await setup(t)
  const events = await collect(adapter.submit(taskRequest('vllm', { workload: 'embedding', prompt: undefined, inputs: ['a', 'bcd'] }), opts()))
  t.same(fake.hits('/v1/embeddings')[0]!.body, { model: 'tiny', input: ['a', 'bcd'], encoding_format: 'float' })
  t.match(events.at(-1), { kind: 'end', data: { tokens_in: 4, embeddings: [fakeVector('a'), fakeVector('bcd')] } })
})
