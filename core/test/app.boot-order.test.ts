import t from 'tap'
import Fastify from 'fastify'
import { BOOT_ORDER, NAMES } from '../../lib/names.js'
import { buildApp } from '../app.js'
import { ManifestError } from '../errors.js'
import narration from '../../plugins/narration/index.js'
import metrics from '../../plugins/metrics/index.js'
import catalog from '../../plugins/catalog/index.js'
import models from '../../plugins/models/index.js'
import artifacts from '../../plugins/artifacts/index.js'
import provisioners from '../../plugins/provisioners/index.js'
import pool from '../../plugins/pool/index.js'
import adapters from '../../plugins/adapters/index.js'
import placement from '../../plugins/placement/index.js'
import sessions from '../../plugins/sessions/index.js'
import dataplane from '../../plugins/dataplane/index.js'
import health from '../../plugins/health/index.js'
import http from '../../plugins/http/index.js'
import { build, fixturePool, manifestOf, FIXTURE_ADAPTER } from '../../test/helpers/build.js'

t.test('every stage of the boot graph is registered, in order', async (t) => {
  const { app } = await build(t, { adapters: [FIXTURE_ADAPTER], pools: [fixturePool()] })
  for (const name of BOOT_ORDER) t.ok(app.hasPlugin(name), `${name} is registered`)
  t.ok(app.hasPlugin(FIXTURE_ADAPTER), 'the extension registered under its package name')
  const tree = app.printPlugins()
  const positions = [...BOOT_ORDER, FIXTURE_ADAPTER].map((name) => tree.indexOf(name))
  t.notOk(positions.includes(-1), 'printPlugins names every stage')
  const stagePositions = positions.slice(0, BOOT_ORDER.length)
  t.same(stagePositions, [...stagePositions].sort((a, b) => a - b), 'printPlugins lists the stages in boot order')
  t.ok(positions.at(-1)! > tree.indexOf(NAMES.adapters) && positions.at(-1)! < tree.indexOf(NAMES.pool), 'adapters load between their registry and the pool')
  for (const d of [
    'narration', 'metrics', 'catalog', 'models', 'artifacts', 'provisioners',
    'adapters', 'adapterHost', 'pool', 'placement', 'sessions', 'dataplane',
  ] as const) {
    t.ok(app.hasDecorator(d), `app.${d} is decorated`)
  }
  t.same(app.adapters.engines(), ['fixture'])
})

// Each stage, registered on an instance that lacks the stage it depends on, must refuse to boot:
// fastify checks `decorators` first (NOT_PRESENT_IN_INSTANCE), then `dependencies`.
const MISORDERED = [
  ['narration before correlation', narration, {}],
  ['metrics before narration', metrics, {}],
  ['catalog before metrics', catalog, {}],
  ['models before catalog', models, {}],
  ['provisioners before catalog', provisioners, {}],
  ['adapters before metrics', adapters, {}],
  ['pool before provisioners', pool, { pools: [] }],
  ['placement before pool', placement, {}],
  ['sessions before adapters', sessions, {}],
  ['dataplane before sessions', dataplane, {}],
  ['health before pool', health, {}],
  ['http before the data plane', http, { routes: [] }],
] as const

for (const [label, plugin, opts] of MISORDERED) {
  t.test(`a misordered registration fails at boot: ${label}`, async (t) => {
    const app = Fastify({ logger: false })
    t.teardown(() => app.close())
    app.register(plugin as never, opts as never)
    await t.rejects(async () => { await app.ready() }, { code: /^FST_ERR_PLUGIN_(NOT_PRESENT_IN_INSTANCE|DEPENDENCY_NOT_REGISTERED)$/ })
  })
}

t.test('two stages swapped (pool before adapters, with everything else in place) fail with the dependency named', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  // register the real chain up to provisioners, then the pool ahead of the adapter host it binds into
  const { default: correlation } = await import('../../plugins/correlation/index.js')
  for (const [p, o] of [
    [correlation, {}],
    [narration, {}],
    [metrics, { buckets_ms: [50] }],
    [catalog, {}],
    [models, { policy: {}, fetch: {} }],
    [provisioners, {}],
  ] as const) {
    await app.register(p as never, o)
  }
  app.register(pool, { pools: [] })
  app.register(adapters)
  await t.rejects(async () => { await app.ready() }, { message: /'adapters' required by 'orc\.pool'/ })
})

t.test('artifacts depend on no other stage: registered alone, they boot', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(artifacts, { artifacts_store: 'memory' })
  await app.ready()
  t.ok(app.hasDecorator('artifacts'))
})

t.test('a pool whose engine no adapter serves stops the boot with the path named', async (t) => {
  const err = await buildApp(manifestOf({ pools: [fixturePool()] }), { source: 'cfg.yaml' }).catch((e: unknown) => e)
  t.ok(err instanceof ManifestError)
  t.same((err as ManifestError).lines, ['/pools/0/engine: no enabled adapter serves engine "fixture"; enable one under adapters (engines served now: none)'])
})
