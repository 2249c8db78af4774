import t from 'tap'
import type { Test } from 'tap'
import { collect, taskRequest } from '../../../test/helpers/adapter-conformance.js'
import { kitAdapter } from '../../../test/helpers/conformance-targets.js'
import { fakeTriton, TRITON_VERSION } from '../../../test/fixtures/engines/triton.js'
import { FakeEngine, json, refusedUrl } from '../../../test/fixtures/engines/fake-engine.js'
import { build } from '../../../test/helpers/build.js'
import { deriveSeed } from '../../../sdk/determinism.js'
import { TRITON_SAMPLING, TritonOptions, tritonProtocol } from '../triton.js'

const opts = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 10_000, poolId: 'p0', replicaId: 'r0' })

async function setup (t: Test, fakeOpts: Parameters<typeof fakeTriton>[0] = {}, options: Record<string, unknown> = {}) {
  const fake = await fakeTriton(fakeOpts)
  const { adapter, close } = kitAdapter('triton', TritonOptions, tritonProtocol, {
    model: 'ensemble',
    metrics_url: `${fake.url}/metrics`,
    ...options,
  })(fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  return { fake, adapter }
}

t.test('server ready but the model not ready → ready false (scenario 18); nothing listening → not live', async (t) => {
  const { adapter } = await setup(t, { modelReady: false })
  t.same(await adapter.health(), { live: true, ready: false })
  const dead = kitAdapter('triton', TritonOptions, tritonProtocol)(await refusedUrl(), {}, () => {})
  t.teardown(dead.close)
  t.same(await dead.adapter.health(), { live: false, ready: false })
})

t.test('generate_stream body uses the field map and profile v1 (top_k 1, random_seed); version pins trtllm', async (t) => {
  const { fake, adapter } = await setup(t, {}, { trtllm_version: '0.20.0', model_version: '1' })
  const r = taskRequest('triton', { prompt: 'Count: 3', max_tokens: 3 })
  const events = await collect(adapter.submit(r, opts()))
  const hit = fake.requests.find((x) => x.path.endsWith('/generate_stream'))!
  t.equal(hit.path, '/v2/models/ensemble/versions/1/generate_stream')
  t.same(hit.body, { text_input: 'Count: 3', max_tokens: 3, stream: true, top_k: 1, random_seed: deriveSeed(r.task_id) })
  t.match(events[0], { data: { engine_version: `${TRITON_VERSION}+trtllm-0.20.0` } })
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'eos', tokens_out: 3 } })
})

t.test('cumulative output is diffed into deltas', async (t) => {
  const { adapter } = await setup(t, { cumulative: true }, { stream_output: 'cumulative' })
  const events = await collect(adapter.submit(taskRequest('triton'), opts()))
  t.same(events.filter((e) => e.kind === 'token').map((e) => (e.data as { t: string }).t), ['Hel', 'lo', ' wor', 'ld', ' 👋'])
})

t.test('props from the model config, GPU gauges from the metrics port (utilization ×100)', async (t) => {
  const { adapter } = await setup(t, {}, { ctx_max: 8192 })
  t.same(await adapter.props(), { slots_total: 64, slots_free: null, ctx_max: 8192, engine_version: TRITON_VERSION })
  t.same(await adapter.scrapeMetrics!(), { gpus: [{ device: 'GPU-aaaa', utilization_percent: 42, vram_used_bytes: 1073741824 }] })
})

t.test('odd servers: no version, batch size 0, metrics without GPU series or 404, a cumulative restart, inputs', async (t) => {
  const fake = await FakeEngine.start({
    'GET /v2': (_q, res) => json(res, 200, {}),
    'GET /v2/models/*/config': (_q, res) => json(res, 200, { max_batch_size: 0 }),
    'GET /metrics': (_q, res) => { res.writeHead(200).end('nv_inference_count 1\nnv_gpu_utilization{device="1"} 0.5\n') },
    'POST /v2/models/*/generate_stream': (_q, res, _b, f) => f.generate(res, {
      token: (x, i) => `data: ${JSON.stringify(i === 1 ? { other: 1 } : { text_output: x })}\n\n`,
      final: () => '',
      error: () => '',
    }, ['ab', 'x', 'c']),
  })
  const { adapter, close } = kitAdapter('triton', TritonOptions, tritonProtocol, {
    stream_output: 'cumulative',
    metrics_url: `${fake.url}/metrics`,
  })(fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  await t.rejects(adapter.engineVersion(), /no version/)
  t.same(await adapter.props(), { slots_total: null, slots_free: null, ctx_max: null, engine_version: null })
  t.same(await adapter.scrapeMetrics!(), { gpus: [{ device: '1', utilization_percent: 50 }] })
  const events = await collect(adapter.submit({ ...taskRequest('triton'), prompt: undefined, inputs: ['q'] } as never, opts()))
  t.same(
    events.filter((e) => e.kind === 'token').map((e) => (e.data as { t: string }).t),
    ['ab', 'c'],
    'an empty response adds nothing; a text that does not extend the last one is taken whole'
  )
  t.equal(fake.requests.find((r) => r.path.endsWith('generate_stream'))!.path, '/v2/models/tiny/generate_stream', 'the pool model by default')
  const bare = await FakeEngine.start({ 'GET /metrics': (_q, res) => { res.writeHead(200).end('nv_inference_count 1\n') } })
  const b = kitAdapter('triton', TritonOptions, tritonProtocol, { metrics_url: `${bare.url}/metrics` })(bare.url, {}, () => {})
  t.teardown(async () => { await b.close(); await bare.close() })
  t.same(await b.adapter.scrapeMetrics!(), {})
  const gone = kitAdapter('triton', TritonOptions, tritonProtocol, { metrics_url: `${bare.url}/nope` })(bare.url, {}, () => {})
  t.teardown(gone.close)
  t.same(await gone.adapter.scrapeMetrics!(), {}, '404: no samples')
})

t.test('the metrics URL defaults to port 8002 of the replica; the built-in loads', async (t) => {
  const { Value } = await import('typebox/value')
  const { bindingFor } = await import('../../../test/helpers/conformance-targets.js')
  const calls: string[] = []
  const client = { call: async (url: string) => { calls.push(url); return { status: 404, headers: {}, text: '' } } }
  const p = tritonProtocol(bindingFor('triton', 'http://10.0.0.5:8000/'), Value.Default(TritonOptions, {}) as never, { client: client as never, http: {} as never })
  await p.scrapeMetrics!()
  t.same(calls, ['http://10.0.0.5:8002/metrics'])
  const { app } = await build(t, { adapters: ['triton'] })
  t.same(app.adapters.engines(), ['triton'])
})

t.test('issue 11: Triton generate takes no stop sequences: its capability says so, and admission refuses them', async (t) => {
  const { adapter } = await setup(t)
  t.match(await adapter.capabilities!(), { features: { stop: false } })
})

t.test('issue 11: sampling reaches Triton as the inputs the field map names; only what a task sets is sent', async (t) => {
  const { fake, adapter } = await setup(t, {}, { fields: { temperature: 'temp_in', repetition_penalty: 'rep_in' } })
  await collect(adapter.submit(taskRequest('triton', {
    prompt: 'x', max_tokens: 3, sampling: { temperature: 0.7, top_p: 0.9, repeat_penalty: 1.2, presence_penalty: 0.5, frequency_penalty: 0.25 },
  }), opts()))
  await collect(adapter.submit(taskRequest('triton', { prompt: 'x', max_tokens: 3, sampling: { temperature: 0.7, top_k: 5 } }), opts()))
  const [first, second] = fake.requests.filter((x) => x.path.endsWith('/generate_stream')).map((x) => x.body)
  t.match(first, { temp_in: 0.7, top_p: 0.9, rep_in: 1.2, presence_penalty: 0.5, frequency_penalty: 0.25, top_k: 0 }, 'sampling: top_k off unless asked')
  t.notOk('temperature' in first! || 'repetition_penalty' in first!, 'the field map\'s names, not the defaults')
  t.match(second, { temp_in: 0.7, top_k: 5 })
  t.notOk('top_p' in second! || 'presence_penalty' in second!, 'what the task does not set is not sent')
  t.same((await adapter.capabilities!()).features?.sampling, TRITON_SAMPLING)
  t.notOk(TRITON_SAMPLING.includes('min_p') || TRITON_SAMPLING.includes('logit_bias') || TRITON_SAMPLING.includes('response_format'))
})
