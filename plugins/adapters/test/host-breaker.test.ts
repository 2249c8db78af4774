import t from 'tap'
import { Registry } from 'prom-client'
import { createAdapterHost } from '../host.js'
import { Breaker } from '../breaker.js'
import type { EngineMetricsSnapshot, TaskRequest, TokenEvent, WorkerAdapter, WorkerErrorKind } from '../../../sdk/index.js'
import { fakeClock } from '../../../lib/clock.js'
import { createCapture, createLogger, createNarrator } from '../../narration/index.js'
import { createContractRegistry } from '../../metrics/registry.js'
import { manifestOf } from '../../../test/helpers/build.js'

interface Scripted extends WorkerAdapter {
  submits: number
  probes: number
  ready: boolean
  fail: WorkerErrorKind | null
  version: string
  snap: EngineMetricsSnapshot | Error
}

function scripted (engine = 'fake'): Scripted {
  const a: Scripted = {
    engine,
    submits: 0,
    probes: 0,
    ready: true,
    fail: null,
    version: 'v1',
    snap: { kv_cache_usage_ratio: 0.5 },
    health: async () => { a.probes++; return { live: true, ready: a.ready } },
    props: async () => ({ slots_total: 2, slots_free: 2 }),
    engineVersion: async () => a.version,
    cancel: async () => {},
    close: async () => {},
    scrapeMetrics: async () => { if (a.snap instanceof Error) throw a.snap; return a.snap },
    async * submit (_req, o) {
      a.submits++
      if (a.fail) { yield { kind: 'error', data: { kind: a.fail, message: 'down', retriable: a.fail === 'POOL_UNAVAILABLE', engine } }; return }
      yield { kind: 'started', data: { engine, engine_version: a.version, pool_id: o.poolId, replica_id: o.replicaId } }
      yield { kind: 'token', data: { t: 'x', i: 0 } }
      yield { kind: 'end', data: { tokens_out: 1, decode_time_ms: 1, stop_reason: 'eos' } }
    },
  }
  return a
}

const req = (id: string, extra: Partial<TaskRequest> = {}): TaskRequest => ({
  task_id: id,
  session_id: 's',
  workload: 'completion',
  model_ref: 'm',
  engine: 'fake',
  ctx: 0,
  priority: 'interactive',
  max_tokens: 8,
  deadline_ms: 1000,
  ...extra,
})
const opts = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 1000 })
async function collect (it: AsyncIterable<TokenEvent>): Promise<TokenEvent[]> {
  const out: TokenEvent[] = []
  for await (const e of it) out.push(e)
  return out
}
const pool = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  engine: 'fake',
  model: 'm',
  devices: [],
  provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1] },
  ...extra,
})

function world (pools: Array<Record<string, unknown>> = [pool('p')]) {
  const clock = fakeClock()
  const capture = createCapture()
  const narrator = createNarrator(createLogger({ level: 'debug', destination: capture }))
  const { metrics, registry } = createContractRegistry([50])
  const host = createAdapterHost({ clock, narrator, metrics, pools: manifestOf({ pools }).pools })
  return { clock, capture, host, registry }
}

t.test(
  '5 consecutive POOL_UNAVAILABLE/WORKER_RESET open the breaker; open submits fail fast with the cool-down; one probe closes it (scenario 20)',
  async (t) => {
    const { clock, capture, host } = world()
    const a = scripted()
    await host.bind('p', 'r0', a)
    a.fail = 'POOL_UNAVAILABLE'
    for (let i = 0; i < 4; i++) await collect(host.submit('p', req(`f${i}`), opts()))
    a.fail = 'WORKER_RESET'
    await collect(host.submit('p', req('f4'), opts()))
    t.equal(host.replicas('p')[0]!.breaker, 'open')
    t.equal(capture.find({ action: 'breaker-open' }).length, 1)
    const before = a.submits
    const refused = await collect(host.submit('p', req('x'), opts()))
    t.match(refused, [{ kind: 'error', data: { kind: 'POOL_UNAVAILABLE', retriable: true, retry_after_ms: 10_000 } }])
    t.equal(a.submits, before, 'the engine is not touched')
    clock.advance(4000)
    t.match(await collect(host.submit('p', req('y'), opts())), [{ kind: 'error', data: { retry_after_ms: 6000 } }])
    t.same(await host.health('p'), { live: true, ready: false }, 'an open breaker makes the pool unready')
    clock.advance(6000)
    t.equal(host.replicas('p')[0]!.breaker, 'half-open')
    a.fail = null
    const probesBefore = a.probes
    const ok = await collect(host.submit('p', req('z'), opts()))
    t.equal(a.probes - probesBefore, 1, 'exactly one health probe')
    t.match(ok.at(-1), { kind: 'end' })
    t.equal(host.replicas('p')[0]!.breaker, 'closed')
    t.equal(capture.find({ action: 'breaker-close' }).length, 1)
  }
)

t.test('a failed probe reopens with the cool-down doubled, capped at 60 s; other errors end a run of failures', async (t) => {
  const { clock, host } = world()
  const a = scripted()
  await host.bind('p', 'r0', a)
  a.fail = 'POOL_UNAVAILABLE'
  for (let i = 0; i < 4; i++) await collect(host.submit('p', req(`a${i}`), opts()))
  a.fail = 'ADAPTER'
  await collect(host.submit('p', req('b'), opts()))
  a.fail = 'POOL_UNAVAILABLE'
  await collect(host.submit('p', req('c'), opts()))
  t.equal(host.replicas('p')[0]!.breaker, 'closed', 'the ADAPTER error broke the run')
  for (let i = 0; i < 4; i++) await collect(host.submit('p', req(`d${i}`), opts()))
  t.equal(host.replicas('p')[0]!.breaker, 'open')
  a.ready = false
  const waits: number[] = []
  for (let i = 0; i < 4; i++) {
    clock.advance(60_000)
    const r = await collect(host.submit('p', req(`p${i}`), opts()))
    waits.push((r[0]!.data as { retry_after_ms: number }).retry_after_ms)
  }
  t.same(waits, [20_000, 40_000, 60_000, 60_000])
  const b = new Breaker()
  t.equal(b.remaining(0), 0)
  b.success()
  t.equal(b.state(0), 'closed')
})

t.test('half-open lets one probe through: a second submit meanwhile is refused; refresh() probes too', async (t) => {
  const { clock, host } = world()
  const a = scripted()
  let release: (v: { live: boolean, ready: boolean }) => void = () => {}
  await host.bind('p', 'r0', a)
  a.fail = 'POOL_UNAVAILABLE'
  for (let i = 0; i < 5; i++) await collect(host.submit('p', req(`f${i}`), opts()))
  clock.advance(10_000)
  a.fail = null
  a.health = () => new Promise((resolve) => { release = resolve })
  const first = collect(host.submit('p', req('one'), opts()))
  await new Promise((resolve) => setImmediate(resolve))
  t.match(await collect(host.submit('p', req('two'), opts())), [{ kind: 'error', data: { kind: 'POOL_UNAVAILABLE', retry_after_ms: 250, message: /probe of r0 is in progress/ } }])
  release({ live: true, ready: true })
  t.match((await first).at(-1), { kind: 'end' })
  // open again, then let the refresh timer's probe close it
  a.health = async () => ({ live: true, ready: true })
  a.fail = 'WORKER_RESET'
  for (let i = 0; i < 5; i++) await collect(host.submit('p', req(`g${i}`), opts()))
  clock.advance(10_000)
  await host.refresh()
  t.equal(host.replicas('p')[0]!.breaker, 'closed')
})

t.test('a replica known not ready gets no task (scenario 17); none ready → POOL_UNAVAILABLE', async (t) => {
  const { host } = world()
  const a = scripted()
  const b = scripted()
  await host.bind('p', 'r0', a)
  await host.bind('p', 'r1', b)
  a.ready = false
  await host.health('p')
  await collect(host.submit('p', req('t1'), opts()))
  t.equal(a.submits, 0)
  t.equal(b.submits, 1)
  b.ready = false
  await host.health('p')
  t.match(await collect(host.submit('p', req('t2'), opts())), [{ kind: 'error', data: { kind: 'POOL_UNAVAILABLE', message: /no replica is ready/ } }])
})

t.test('require_same_engine_version: a different version is refused with an error narration (scenario 22)', async (t) => {
  const { capture, host } = world([pool('p', { require_same_engine_version: true })])
  await host.bind('p', 'r0', scripted())
  const other = scripted()
  other.version = 'v2'
  await t.rejects(host.bind('p', 'r1', other), /cannot bind p\/r1: its engine version v2 differs from the pinned v1/)
  t.match(capture.find({ action: 'error', actor: 'adapter-host' })[0], { pool_id: 'p', replica_id: 'r1', engine_version: 'v2', pinned_version: 'v1' })
  t.same(host.replicas('p').map((r) => r.replicaId), ['r0'], 'nothing changed')
  const unknown = scripted()
  unknown.engineVersion = async () => { throw new Error('no version') }
  await t.rejects(host.bind('p', 'r2', unknown), /cannot be read/)
  await host.rebind('p', 'r0', other)
  t.same(host.replicas('p').map((r) => r.engineVersion), ['v2'], 'rebinding the only replica sets a new pin')
})

t.test('narration: bind, submit (with determinism), end, error, cancel; never per token (scenario 16, ORCH-3604)', async (t) => {
  const digest = `sha256:${'b'.repeat(64)}`
  const { capture, host } = world([pool('p', {
    sampler_profile_version: 'v1',
    provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1], model: { checksum: digest } },
  })])
  const a = scripted()
  await host.bind('p', 'r0', a)
  await collect(host.submit('p', req('n1', { seed: 9 }), opts()))
  a.fail = 'DECODE_TIMEOUT'
  await collect(host.submit('p', req('n2'), opts()))
  await collect(host.submit('nope', req('n3'), opts()))
  const actions = capture.records().filter((r) => r.actor === 'adapter-host').map((r) => r.action)
  t.same(actions, ['bind', 'submit', 'end', 'submit', 'error', 'error'])
  t.match(capture.find({ action: 'submit', task_id: 'n1' })[0], {
    target: 'fake',
    pool_id: 'p',
    replica_id: 'r0',
    engine_version: 'v1',
    seed: 9,
    sampler_profile_version: 'v1',
    model_digest: digest,
  })
  t.match(capture.find({ action: 'end' })[0], { tokens_out: 1, decode_time_ms: 1, stop_reason: 'eos' })
  t.notOk(capture.find({ action: 'end' })[0]!.decode_ms, 'logs carry decode_time_ms only (scenario 24)')
  t.match(capture.find({ action: 'error', task_id: 'n2' })[0], { error_kind: 'DECODE_TIMEOUT' })
  t.ok(capture.humans().every((h) => h.length <= 100))
})

t.test('scrapes map to kv_cache_usage_ratio and GPU gauges; unbind removes them; a failing scrape is narrated once', async (t) => {
  const { capture, host, registry } = world()
  const a = scripted()
  await host.bind('p', 'r0', a)
  a.snap = { kv_cache_usage_ratio: 0.5, gpus: [{ device: 'GPU-1', utilization_percent: 42, vram_used_bytes: 1024 }, { device: 'GPU-2' }] }
  await host.scrape()
  const text = await registry.metrics()
  t.match(text, /kv_cache_usage_ratio\{engine="fake",engine_version="v1",pool_id="p",replica_id="r0"\} 0.5/)
  t.match(text, /gpu_utilization\{engine="fake",engine_version="v1",pool_id="p",replica_id="r0",device="GPU-1"\} 42/)
  t.match(text, /vram_used_bytes\{.*device="GPU-1"\} 1024/)
  a.snap = new Error('connection refused')
  await host.scrape()
  await host.scrape()
  t.equal(capture.find({ action: 'scrape' }).length, 1)
  a.snap = {}
  await host.scrape()
  t.notMatch(await registry.metrics(), /kv_cache_usage_ratio\{/, 'an engine without the series leaves no sample')
  a.snap = { kv_cache_usage_ratio: 0.1 }
  await host.scrape()
  await host.unbind('p', 'r0')
  t.notMatch(await registry.metrics(), /kv_cache_usage_ratio\{/)
  t.ok(registry instanceof Registry)
})

t.test('capabilities list configured pools without replicas; health transitions refresh the cache; timers run and stop', async (t) => {
  const { host } = world([pool('p', { ctx: 1024 }), pool('idle', { engine: 'other', ctx: 512 })])
  t.same(host.capabilities().map((e) => [e.engine, e.ctx_max, e.concurrency, e.pools]), [
    ['fake', 1024, 0, [{ pool_id: 'p', replicas: 0, slots_total: 0, ready: false }]],
    ['other', 512, 0, [{ pool_id: 'idle', replicas: 0, slots_total: 0, ready: false }]],
  ])
  const a = scripted()
  let caps = {
    ctx_max: 2048,
    slots_total: 3,
    engine_version: 'v1',
    supported_workloads: ['completion', 'embedding'] as Array<'completion' | 'embedding'>,
    features: { seed: true },
    rate_limits: { rps: 5 },
  }
  a.capabilities = async () => caps
  await host.bind('p', 'r0', a)
  t.match(host.capabilities()[0], {
    engine: 'fake',
    ctx_max: 2048,
    concurrency: 3,
    supported_workloads: ['completion', 'embedding'],
    features: { seed: true, streaming: true },
    rate_limits: { rps: 5 },
  })
  caps = { ...caps, ctx_max: 4096, slots_total: 4, engine_version: 'v1.1' }
  a.ready = false
  await host.health('p')
  await new Promise((resolve) => setImmediate(resolve))
  t.match(host.capabilities()[0], { ctx_max: 4096, concurrency: 4, engine_version: 'v1.1' })
  const timed = createAdapterHost({ refreshMs: 5, scrapeMs: 5 })
  const b = scripted()
  await timed.bind('q', 'r0', b)
  const probes = b.probes
  await new Promise((resolve) => setTimeout(resolve, 30))
  timed.close()
  t.ok(b.probes > probes, 'the refresh timer asked for health')
})

t.test('adapter_host in the manifest sets the breaker of the app\'s host', async (t) => {
  const { build } = await import('../../../test/helpers/build.js')
  const { app } = await build(t, { adapter_host: { breaker: { threshold: 1, cooldown_ms: 2500, max_cooldown_ms: 5000 }, refresh_ms: 0, scrape_ms: 0 } })
  const a = scripted()
  a.fail = 'WORKER_RESET'
  await app.adapterHost.bind('p', 'r0', a)
  await collect(app.adapterHost.submit('p', req('t1'), opts()))
  const refused = await collect(app.adapterHost.submit('p', req('t2'), opts()))
  t.match(refused, [{ kind: 'error', data: { kind: 'POOL_UNAVAILABLE', retry_after_ms: Number } }], 'one failure opened it (threshold 1)')
  const after = (refused[0]!.data as { retry_after_ms: number }).retry_after_ms
  t.ok(after > 2000 && after <= 2500, `the configured cool-down (${after} ms)`)
  t.equal(a.submits, 1, 'the engine was not touched')
})
