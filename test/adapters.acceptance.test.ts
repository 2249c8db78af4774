/**
 * Black-box acceptance of the adapters issue (issue 4): the example npm adapter boots from a
 * manifest and shows in /v1/capabilities; a task streams to `end` through the adapter host
 * (the public task API is the data plane's, built separately); secrets never leak.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { TokenEvent } from '../sdk/index.js'
import { build, manifestOf } from './helpers/build.js'
import { fakeOpenAi } from './fixtures/engines/openai-compat.js'
import { fakeLlamaServer } from './fixtures/engines/llama-server.js'

const run = promisify(execFile)

const echoPool = { id: 'echo0', engine: 'echo', model: 'echo', devices: [], provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1] } }

async function collect (it: AsyncIterable<TokenEvent>): Promise<TokenEvent[]> {
  const out: TokenEvent[] = []
  for await (const e of it) out.push(e)
  return out
}

t.test('a manifest naming the npm package orc-adapter-echo boots, lists engine echo in /v1/capabilities, and serves a task to end', async (t) => {
  const { app, capture } = await build(t, { adapters: [{ package: 'orc-adapter-echo', options: { slots: 3 } }], pools: [echoPool] })
  t.same(app.adapters.engines(), ['echo'])
  const before = await app.inject({ url: '/v1/capabilities' })
  t.equal(before.statusCode, 200)
  const openapi = (await app.inject({ url: '/v1/openapi.json' })).json()
  t.equal(before.json().api_version, openapi.info.version, 'api_version = OpenAPI info.version (scenario 23)')
  t.ok(openapi.paths['/v1/capabilities'], 'the route is documented')
  t.match(before.json().engines, [{ engine: 'echo', concurrency: 0, pools: [{ pool_id: 'echo0', replicas: 0, ready: false }] }])

  // what the pool manager will do once the replica is Ready: create and bind an adapter
  const adapter = app.adapters.get('echo')!.create({ poolId: 'echo0', replicaId: 'r0', baseUrl: 'http://127.0.0.1:1', pool: app.pool.configs[0]! })
  let engineCalls = 0
  for (const m of ['health', 'props', 'engineVersion', 'capabilities'] as const) {
    const f = (adapter[m] as (...a: unknown[]) => Promise<unknown>).bind(adapter)
    ;(adapter as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => { engineCalls++; return f(...a) }
  }
  await app.adapterHost.bind('echo0', 'r0', adapter)
  const calls = engineCalls
  const caps = (await app.inject({ url: '/v1/capabilities' })).json()
  t.equal(engineCalls, calls, 'GET /v1/capabilities contacts no engine')
  t.match(caps.engines, [{
    engine: 'echo',
    ctx_max: 4096,
    concurrency: 3,
    engine_version: 'echo-1.0.0',
    supported_workloads: ['completion'],
    pools: [{ pool_id: 'echo0', replicas: 1, slots_total: 3, ready: true }],
  }])

  const events = await collect(app.adapterHost.submit('echo0', {
    task_id: 'task-1',
    session_id: 's',
    workload: 'completion',
    model_ref: 'echo',
    engine: 'echo',
    ctx: 0,
    priority: 'interactive',
    prompt: 'hello from npm',
    max_tokens: 16,
    deadline_ms: 5000,
  }, { signal: new AbortController().signal, deadlineAt: Date.now() + 5000 }))
  t.same(events.map((e) => e.kind), ['started', 'token', 'token', 'token', 'end'])
  t.equal(events.filter((e) => e.kind === 'token').map((e) => (e.data as { t: string }).t).join(''), 'hello from npm')
  t.match(capture.find({ actor: 'orchestratord', action: 'load', target: 'orc-adapter-echo' }), [{ builtin: false }])
  t.same(capture.records().filter((r) => r.actor === 'adapter-host').map((r) => r.action), ['bind', 'submit', 'end'])
})

t.test('the example package passes its own tests (node --test, as its authors run them)', async (t) => {
  const { stdout } = await run(process.execPath, ['--test', 'test/'], { cwd: 'examples/adapter-echo' })
  t.match(stdout, /# pass 6/)
  t.match(stdout, /# fail 0/)
})

t.test('secrets in adapter options or the environment never reach logs, errors, /metrics or /v1/capabilities (ORCH-3278, scenario 12)', async (t) => {
  const optionSecret = 'sk-canary-options-0123456789'
  const envSecret = 'sk-canary-env-9876543210'
  const openai = await fakeOpenAi({ key: 'sk-the-right-one-000000', openModels: true })
  const llama = await fakeLlamaServer()
  t.teardown(async () => { await openai.close(); await llama.close() })
  process.env.ORC_TEST_LLAMA_KEY = envSecret
  t.teardown(() => { delete process.env.ORC_TEST_LLAMA_KEY })
  const pools = [
    { id: 'oai', engine: 'openai', model: 'gpt-fake', devices: [], provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1] } },
    { id: 'll', engine: 'llamacpp', model: 'tiny', devices: [], provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1] } },
  ]
  const { app, capture } = await build(t, {
    adapters: [
      { package: 'openai', options: { base_url: openai.url, api_key: optionSecret, health_cache_ms: 0, http: { backoff_base_ms: 1, backoff_cap_ms: 5 } } },
      { package: 'llamacpp', options: { api_key_env: 'ORC_TEST_LLAMA_KEY', http: { backoff_base_ms: 1, backoff_cap_ms: 5 } } },
    ],
    pools,
  })
  const cfg = manifestOf({ pools }).pools
  await app.adapterHost.bind('oai', 'r0', app.adapters.get('openai')!.create({ poolId: 'oai', replicaId: 'r0', baseUrl: 'http://unused', pool: cfg[0]! }))
  await app.adapterHost.bind('ll', 'r0', app.adapters.get('llamacpp')!.create({ poolId: 'll', replicaId: 'r0', baseUrl: llama.url, pool: cfg[1]! }))
  const req = (id: string, engine: string) => ({
    task_id: id,
    session_id: 's',
    workload: 'completion' as const,
    model_ref: 'm',
    engine,
    ctx: 0,
    priority: 'interactive' as const,
    prompt: 'hi',
    max_tokens: 4,
    deadline_ms: 5000,
  })
  const o = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 5000 })

  const denied = await collect(app.adapterHost.submit('oai', req('s1', 'openai'), o()))
  t.match(denied, [{ kind: 'error', data: { kind: 'ADAPTER', upstream_status: 401 } }])
  t.same(await app.adapterHost.health('oai'), { live: true, ready: false }, '401 flips health to not ready')
  llama.faults.statuses.push({
    status: 503,
    body: `{"error":{"code":503,"message":"Loading model; Authorization: Bearer ${envSecret}","type":"unavailable_error"}}`,
  })
  llama.faults.errorAfter = 1
  const failed = await collect(app.adapterHost.submit('ll', req('s2', 'llamacpp'), o()))
  t.equal(llama.hits('/completion')[0]!.headers.authorization, `Bearer ${envSecret}`, 'the key did go to the engine')
  t.match(failed.at(-1), { kind: 'error', data: { kind: 'ADAPTER' } })
  t.ok(capture.find({ action: 'retry' }).length >= 1, 'the retry was narrated')
  await (app.adapterHost as unknown as { scrape (): Promise<void> }).scrape()

  const metrics = (await app.inject({ url: '/metrics' })).body
  const caps = (await app.inject({ url: '/v1/capabilities' })).body
  t.match(metrics, /kv_cache_usage_ratio\{engine="llamacpp"/)
  const everything = [capture.text(), JSON.stringify(denied), JSON.stringify(failed), metrics, caps].join('\n')
  for (const secret of [optionSecret, envSecret, '0123456789', '9876543210']) t.notOk(everything.includes(secret), `no trace of ${secret.slice(0, 12)}…`)
})
