import t from 'tap'
import type { Test } from 'tap'
import { collect, taskRequest } from '../../../test/helpers/adapter-conformance.js'
import { kitAdapter } from '../../../test/helpers/conformance-targets.js'
import { fakeTgi, TGI_SHA, TGI_VERSION } from '../../../test/fixtures/engines/tgi.js'
import { FakeEngine, json } from '../../../test/fixtures/engines/fake-engine.js'
import { build } from '../../../test/helpers/build.js'
import { deriveSeed } from '../../../sdk/determinism.js'
import { TgiOptions, tgiProtocol } from '../tgi.js'

const opts = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 10_000, poolId: 'p0', replicaId: 'r0' })

async function setup (t: Test, fakeOpts: Parameters<typeof fakeTgi>[0] = {}) {
  const fake = await fakeTgi(fakeOpts)
  const { adapter, close } = kitAdapter('tgi', TgiOptions, tgiProtocol)(fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  return { fake, adapter }
}

t.test('profile v1 on TGI: do_sample false and the seed, no temperature or top_p (scenario 13); special tokens not emitted', async (t) => {
  const { fake, adapter } = await setup(t, { special: true })
  const r = taskRequest('tgi', { prompt: 'Count: 3', max_tokens: 3 })
  const events = await collect(adapter.submit(r, opts()))
  const body = fake.hits('/generate_stream')[0]!.body
  t.same(body, { inputs: 'Count: 3', parameters: { max_new_tokens: 3, do_sample: false, seed: deriveSeed(r.task_id), details: true } })
  t.notOk('temperature' in body.parameters || 'top_p' in body.parameters)
  t.same(events.filter((e) => e.kind === 'token').map((e) => (e.data as { t: string }).t), ['Hel', 'lo', ' wor'], 'the special <s> is dropped')
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'length', tokens_out: 3, tokens_in: 8 } })
  t.match(events[0], { data: { engine_version: `${TGI_VERSION}+${TGI_SHA.slice(0, 7)}` } })
})

t.test('/info gives slots, context and version; 424 generation and 422 validation are ADAPTER', async (t) => {
  const { fake, adapter } = await setup(t, { maxTotalTokens: 4096 })
  t.same(await adapter.props(), { slots_total: 128, slots_free: null, ctx_max: 4096, engine_version: `${TGI_VERSION}+${TGI_SHA.slice(0, 7)}` })
  t.match(await adapter.capabilities!(), { features: { model_sha: 'abc123' } })
  fake.faults.statuses.push({ status: 424, body: '{"error":"Request failed during generation: Server error: CUDA OOM","error_type":"generation"}' })
  t.match(await collect(adapter.submit(taskRequest('tgi'), opts())), [{ kind: 'error', data: { kind: 'ADAPTER', upstream_status: 424, message: /CUDA OOM/ } }])
  fake.faults.statuses.push({ status: 422, body: '{"error":"Input validation error: `temperature` must be strictly positive","error_type":"validation"}' })
  t.match(await collect(adapter.submit(taskRequest('tgi'), opts())), [{ kind: 'error', data: { kind: 'ADAPTER', upstream_status: 422 } }])
  fake.faults.statuses.push({ status: 500, body: '{"error":"Request failed during generation: incomplete","error_type":"incomplete_generation"}' })
  t.match(await collect(adapter.submit(taskRequest('tgi'), opts())), [{ kind: 'error', data: { kind: 'WORKER_RESET', upstream_status: 500 } }])
})

t.test('mid-stream error frames by error_type: incomplete_generation → WORKER_RESET, overloaded → POOL_UNAVAILABLE (scenario 11)', async (t) => {
  const frames: Record<string, string> = {
    incomplete_generation: 'WORKER_RESET',
    overloaded: 'POOL_UNAVAILABLE',
    validation: 'ADAPTER',
  }
  for (const [type, kind] of Object.entries(frames)) {
    const fake = await FakeEngine.start({
      'POST /generate_stream': (_q, res, _b, f) => f.generate(res, {
        token: (x) => `data:{"token":{"text":${JSON.stringify(x)},"special":false}}\n\n`,
        final: () => `data:{"error":"boom","error_type":"${type}"}\n\n`,
        error: () => '',
      }),
      'GET /info': (_q, res) => json(res, 200, {}),
    })
    const { adapter, close } = kitAdapter('tgi', TgiOptions, tgiProtocol)(fake.url, {}, () => {})
    const events = await collect(adapter.submit({ ...taskRequest('tgi'), prompt: undefined } as never, opts()))
    t.match(events.at(-1), { kind: 'error', data: { kind, message: /boom/ } }, type)
    t.same(await adapter.props(), { slots_total: null, slots_free: null, ctx_max: null, engine_version: null })
    await t.rejects(adapter.engineVersion(), /no version/)
    t.equal(fake.hits('/generate_stream')[0]!.body.inputs, '')
    await close()
    await fake.close()
  }
})

t.test('a final frame with an unknown finish reason ends as eos; the built-in loads', async (t) => {
  const fake = await FakeEngine.start({
    'POST /generate_stream': (_q, res, _b, f) => f.generate(res, {
      token: (x) => `data:{"token":{"text":${JSON.stringify(x)}}}\n\n`,
      final: () => 'data:{"token":{"text":"","special":true},"details":{"finish_reason":"other"}}\n\n',
      error: () => '',
    }, ['a']),
    'GET /info': (_q, res) => json(res, 200, { version: '1.0.0' }),
  })
  const { adapter, close } = kitAdapter('tgi', TgiOptions, tgiProtocol)(fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  t.match((await collect(adapter.submit(taskRequest('tgi', { inputs: ['q'] }), opts()))).at(-1), { kind: 'end', data: { stop_reason: 'eos', tokens_out: 1 } })
  t.equal(await adapter.engineVersion(), '1.0.0')
  const { app } = await build(t, { adapters: ['tgi'] })
  t.same(app.adapters.engines(), ['tgi'])
})

t.test('issue 11: stop sequences go to TGI as parameters.stop, and the capability says it honours them', async (t) => {
  const { fake, adapter } = await setup(t)
  await collect(adapter.submit(taskRequest('tgi', { prompt: 'Count: 3', max_tokens: 3, stop: ['6', '\n'] }), opts()))
  t.same(fake.hits('/generate_stream')[0]!.body.parameters.stop, ['6', '\n'])
  t.match(await adapter.capabilities!(), { features: { stop: true } })
})
