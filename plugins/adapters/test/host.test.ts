import t from 'tap'
import { createAdapterHost } from '../host.js'
import type { TaskRequest, TokenEvent, WorkerAdapter } from '../../../sdk/index.js'
import { build, fixturePool, FIXTURE_ADAPTER } from '../../../test/helpers/build.js'

interface Fake extends WorkerAdapter { closed: boolean, canceled: string[], submitted: string[] }

/** A scriptable adapter: `script` decides what each submit yields; `gate` holds a stream open. */
function fakeAdapter (o: {
  version?: string
  slots?: number
  ctx?: number
  script?: (signal: AbortSignal) => AsyncGenerator<TokenEvent>
  health?: boolean
} = {}): Fake {
  const a: Fake = {
    engine: 'fake',
    closed: false,
    canceled: [],
    submitted: [],
    health: async () => ({ live: true, ready: o.health ?? true }),
    props: async () => ({ slots_total: o.slots ?? 1, slots_free: o.slots ?? 1, ctx_max: o.ctx ?? 4096 }),
    engineVersion: async () => o.version ?? 'v1',
    cancel: async (id) => { a.canceled.push(id) },
    close: async () => { a.closed = true },
    submit (req, so) {
      a.submitted.push(`${so.poolId}/${so.replicaId}/${req.task_id}`)
      return (o.script ?? tokens(3))(so.signal)
    },
  }
  return a
}

function tokens (n: number, hold?: Promise<void>): (signal: AbortSignal) => AsyncGenerator<TokenEvent> {
  return async function * (signal) {
    yield { kind: 'started', data: { engine: 'fake', engine_version: 'v1', pool_id: 'p', replica_id: 'r' } }
    for (let i = 0; i < n; i++) {
      if (i === 1 && hold) await hold
      if (signal.aborted) return
      yield { kind: 'token', data: { t: `t${i}`, i } }
    }
    yield { kind: 'end', data: { tokens_out: n, decode_time_ms: 1, stop_reason: 'eos' } }
  }
}

const req = (id: string): TaskRequest => ({
  task_id: id,
  session_id: 's',
  workload: 'completion',
  model_ref: 'm',
  engine: 'fake',
  ctx: 0,
  priority: 'interactive',
  max_tokens: 8,
  deadline_ms: 1000,
})
const opts = (signal = new AbortController().signal) => ({ signal, deadlineAt: Date.now() + 1000 })
async function collect (it: AsyncIterable<TokenEvent>): Promise<TokenEvent[]> {
  const out: TokenEvent[] = []
  for await (const e of it) out.push(e)
  return out
}

t.test('submit streams through the bound adapter; no binding yields POOL_UNAVAILABLE (ORCH-3601)', async (t) => {
  const host = createAdapterHost()
  const none = await collect(host.submit('p', req('t0'), opts()))
  t.match(none, [{ kind: 'error', data: { kind: 'POOL_UNAVAILABLE', retriable: true, retry_after_ms: 1000 } }])
  await host.bind('p', 'r0', fakeAdapter())
  const events = await collect(host.submit('p', req('t1'), opts()))
  t.same(events.map((e) => e.kind), ['started', 'token', 'token', 'token', 'end'])
  await t.rejects(host.bind('p', 'r0', fakeAdapter()), /already bound; use rebind/)
})

t.test('replica choice: most free slots, then replica id; a named replica wins (ORCH-3012)', async (t) => {
  const host = createAdapterHost()
  let release: () => void = () => {}
  const hold = new Promise<void>((resolve) => { release = resolve })
  const a = fakeAdapter({ slots: 2, script: tokens(2, hold) })
  const b = fakeAdapter({ slots: 2 })
  await host.bind('p', 'r-b', b)
  await host.bind('p', 'r-a', a)
  const first = host.submit('p', req('x'), opts())[Symbol.asyncIterator]()
  await first.next()
  t.same(a.submitted, ['p/r-a/x'], 'equal free slots: the lower replica id')
  await collect(host.submit('p', req('y'), opts()))
  t.same(b.submitted, ['p/r-b/y'], 'r-a has a stream in flight: r-b has more free slots')
  t.same(host.replicas('p').map((r) => [r.replicaId, r.inFlight]), [['r-b', 0], ['r-a', 1]])
  await collect(host.submit('p', req('z'), { ...opts(), replicaId: 'r-b' }))
  t.same(b.submitted.at(-1), 'p/r-b/z')
  release()
  while (!(await first.next()).done);
  t.same(host.replicas('p').map((r) => r.inFlight), [0, 0])
  t.match(await collect(host.submit('p', req('w'), { ...opts(), replicaId: 'nope' })), [{ kind: 'error', data: { kind: 'POOL_UNAVAILABLE' } }])
})

t.test('cancel is race-free: no token after it, one canceled end, the adapter is told (ORCH-3026)', async (t) => {
  const host = createAdapterHost()
  let release: () => void = () => {}
  const hold = new Promise<void>((resolve) => { release = resolve })
  const a = fakeAdapter({ script: tokens(5, hold) })
  await host.bind('p', 'r0', a)
  const it = host.submit('p', req('c1'), opts())[Symbol.asyncIterator]()
  const seen: TokenEvent[] = [(await it.next()).value, (await it.next()).value]
  const next = it.next()
  await host.cancel('p', 'c1')
  release()
  let r = await next
  while (!r.done) { seen.push(r.value); r = await it.next() }
  t.same(seen.map((e) => e.kind), ['started', 'token', 'end'])
  t.match(seen.at(-1), { kind: 'end', data: { stop_reason: 'canceled', tokens_out: 1 } })
  t.same(a.canceled, ['c1'])
  await host.cancel('p', 'unknown')
  t.pass('canceling an unknown task is a no-op')
})

t.test('the caller\'s AbortSignal cancels the same way', async (t) => {
  const host = createAdapterHost()
  await host.bind('p', 'r0', fakeAdapter({ script: tokens(3) }))
  const ac = new AbortController()
  ac.abort()
  const events = await collect(host.submit('p', req('c2'), opts(ac.signal)))
  t.same(events, [{ kind: 'end', data: { tokens_out: 0, decode_time_ms: 0, stop_reason: 'canceled' } }])
})

t.test('every stream gets exactly one terminal event: silent end → WORKER_RESET, throw → INTERNAL', async (t) => {
  const host = createAdapterHost()
  await host.bind('p', 'silent', fakeAdapter({ script: async function * () { yield { kind: 'token', data: { t: 'a', i: 0 } } } }))
  t.match((await collect(host.submit('p', req('s'), opts()))).at(-1), { kind: 'error', data: { kind: 'WORKER_RESET', retriable: false } })
  await host.unbind('p', 'silent')
  await host.bind('p', 'thrower', fakeAdapter({
    script: async function * () {
      yield { kind: 'token', data: { t: 'a', i: 0 } }
      throw new Error('bug in adapter')
    },
  }))
  t.match((await collect(host.submit('p', req('th'), opts()))).at(-1), {
    kind: 'error',
    data: { kind: 'INTERNAL', message: 'adapter failure: bug in adapter' },
  })
  const after = await collect((async function * () { yield * host.submit('p', req('th2'), opts()) })())
  t.equal(after.filter((e) => e.kind === 'error' || e.kind === 'end').length, 1)
})

t.test('rebind: streams in flight finish on the old adapter, which closes after; unbind closes', async (t) => {
  const host = createAdapterHost()
  let release: () => void = () => {}
  const hold = new Promise<void>((resolve) => { release = resolve })
  const old = fakeAdapter({ script: tokens(2, hold), version: 'v1' })
  const fresh = fakeAdapter({ version: 'v2' })
  await host.bind('p', 'r0', old)
  const it = host.submit('p', req('long'), opts())[Symbol.asyncIterator]()
  await it.next()
  await host.rebind('p', 'r0', fresh)
  t.equal(old.closed, false, 'still streaming')
  await collect(host.submit('p', req('new'), opts()))
  t.same(fresh.submitted, ['p/r0/new'])
  release()
  while (!(await it.next()).done);
  t.equal(old.closed, true)
  t.same(host.replicas().map((r) => r.engineVersion), ['v2'])
  await host.unbind('p', 'r0')
  t.equal(fresh.closed, true)
  t.same(host.replicas(), [])
  await host.unbind('p', 'r0')
  await host.rebind('q', 'r9', fakeAdapter())
  t.same(host.replicas('q').map((r) => r.replicaId), ['r9'], 'rebind of an unknown replica binds it')
})

t.test('health, props and the capability cache aggregate the bound replicas', async (t) => {
  const host = createAdapterHost()
  t.same(await host.health('p'), { live: false, ready: false })
  const broken: WorkerAdapter = {
    ...fakeAdapter(),
    engine: 'other',
    health: async () => { throw new Error('down') },
    props: async () => { throw new Error('down') },
    engineVersion: async () => { throw new Error('down') },
  }
  await host.bind('p', 'r0', fakeAdapter({ slots: 2, ctx: 2048, health: false }))
  await host.bind('p', 'r1', fakeAdapter({ slots: 3, ctx: 8192 }))
  await host.bind('q', 'r0', broken)
  t.same(await host.health('p'), { live: true, ready: true })
  t.same(await host.health('q'), { live: false, ready: false })
  t.same(await host.props('p'), { slots_total: 5, slots_free: 5 })
  t.same(host.capabilities(), [
    {
      engine: 'fake',
      ctx_max: 8192,
      supported_workloads: ['completion'],
      rate_limits: {},
      features: { streaming: true, cancel: true },
      concurrency: 5,
      engine_version: 'v1',
      pools: [{ pool_id: 'p', replicas: 2, slots_total: 5, ready: true }],
    },
    {
      engine: 'other',
      ctx_max: 0,
      supported_workloads: ['completion'],
      rate_limits: {},
      features: { streaming: true, cancel: true },
      concurrency: 1,
      pools: [{ pool_id: 'q', replicas: 1, slots_total: 1, ready: false }],
    },
  ])
})

t.test('app.adapterHost is decorated and unbinds (closing adapters) when the app closes', async (t) => {
  const { app } = await build(t, { adapters: [FIXTURE_ADAPTER], pools: [fixturePool()] })
  const adapter = app.adapters.get('fixture')!.create({ poolId: 'echo0', replicaId: 'r0', baseUrl: 'http://127.0.0.1:1', pool: app.pool.configs[0]! })
  let closed = false
  await app.adapterHost.bind('echo0', 'r0', { ...adapter, engine: adapter.engine, close: async () => { closed = true } })
  t.same(app.adapterHost.replicas().length, 1)
  await app.close()
  t.equal(closed, true)
})

t.test('a consumer leaving early unregisters the task; an adapter whose submit throws at once yields INTERNAL', async (t) => {
  const host = createAdapterHost()
  const a = fakeAdapter({ script: tokens(5) })
  await host.bind('p', 'r0', a)
  for await (const e of host.submit('p', req('early'), opts())) if (e.kind === 'token') break
  t.same(host.replicas('p').map((r) => r.inFlight), [0])
  const it = host.submit('p', req('never'), opts())[Symbol.asyncIterator]()
  t.same(await it.return!(), { value: undefined, done: true }, 'return before the first next is a no-op')
  t.same(await it.next(), { value: undefined, done: true })
  await host.unbind('p', 'r0')
  await host.bind('p', 'r1', { ...fakeAdapter(), submit: () => { throw new Error('sync bug') } })
  t.match(await collect(host.submit('p', req('sync'), opts())), [{ kind: 'error', data: { kind: 'INTERNAL', message: 'adapter failure: sync bug' } }])
  t.same(host.replicas('p').map((r) => r.inFlight), [0])
})

t.test('freeSession: the named replica, else every replica of the pool; adapters without it are skipped; failures narrated', async (t) => {
  const records: Array<Record<string, unknown>> = []
  const host = createAdapterHost({
    narrator: { narrate: (fields: Record<string, unknown>, _human: string, level?: string) => { records.push({ ...fields, level }) } } as never,
  })
  const freed: string[] = []
  const withFree = (name: string, fail = false): Fake => Object.assign(fakeAdapter(), {
    freeSession: async (id: string) => { if (fail) throw new Error('no such slot'); freed.push(`${name}:${id}`) },
  })
  await host.bind('p', 'r0', withFree('r0'))
  await host.bind('p', 'r1', withFree('r1'))
  await host.bind('p', 'r2', fakeAdapter()) // an engine with no per-session KV to free
  await host.freeSession('p', 's1', 'r1')
  t.same(freed, ['r1:s1'], 'only the replica that served the session')
  await host.freeSession('p', 's2')
  t.same(freed.sort(), ['r0:s2', 'r1:s1', 'r1:s2'], 'no replica known: all that can')
  await host.freeSession('nope', 's3')
  t.equal(freed.length, 3, 'an unknown pool frees nothing')
  await host.rebind('p', 'r0', withFree('r0', true))
  await host.freeSession('p', 's4', 'r0')
  t.match(records.filter((r) => r.action === 'free-session').at(-1), { level: 'warn', error: 'no such slot', session_id: 's4', replica_id: 'r0' })
})
