import t from 'tap'
import { createAdapterRegistry } from '../registry.js'
import type { AdapterFactory } from '../../../sdk/index.js'
import { build, fixturePool, FIXTURE_ADAPTER } from '../../../test/helpers/build.js'

const factory = (engine: string): AdapterFactory => ({ engine, create: () => { throw new Error('not used') } })

t.test('adapters register one factory per engine', async (t) => {
  const r = createAdapterRegistry()
  r.add(factory('vllm'))
  r.add(factory('tgi'))
  t.same(r.engines(), ['vllm', 'tgi'])
  t.equal(r.get('vllm')?.engine, 'vllm')
  t.equal(r.get('nope'), undefined)
  t.equal(r.list().length, 2)
  t.throws(() => r.add(factory('vllm')), /engine "vllm" already has an adapter/)
})

t.test('an adapter package registered by the app creates working adapters', async (t) => {
  const { app } = await build(t, { adapters: [{ package: FIXTURE_ADAPTER, options: { prefix: '» ' } }], pools: [fixturePool()] })
  const f = app.adapters.get('fixture')!
  const adapter = f.create({ poolId: 'echo0', replicaId: 'r0', baseUrl: 'http://127.0.0.1:18080', pool: app.pool.configs[0]! })
  t.same(await adapter.health(), { live: true, ready: true })
  const events = []
  for await (const e of adapter.submit({
    task_id: 't',
    session_id: 's',
    workload: 'completion',
    model_ref: 'echo',
    engine: 'fixture',
    ctx: 0,
    priority: 'interactive',
    prompt: 'hello there',
    max_tokens: 8,
    deadline_ms: 1000,
  }, { signal: new AbortController().signal, deadlineAt: Date.now() + 1000, poolId: 'echo0', replicaId: 'r0' })) events.push(e)
  t.same(events.map((e) => e.kind), ['started', 'token', 'token', 'token', 'end'])
  t.same(events.filter((e) => e.kind === 'token').map((e) => (e.data as { t: string }).t).join(''), '» hello there')
})
