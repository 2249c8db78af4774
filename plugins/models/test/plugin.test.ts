import t from 'tap'
import { join } from 'node:path'
import { build } from '../../../test/helpers/build.js'
import { fakeRunner } from './helpers.js'

t.test('app.models stages through the app catalog, counts and narrates (ORCH-3700)', async (t) => {
  const dir = t.testdir({ 'm.gguf': 'weights' })
  const { app, capture } = await build(t, { catalog: { root: join(dir, 'root') }, policy: { allow_outbound_network: true } })
  t.ok(app.hasPlugin('orc.models'))
  const r = await app.models.ensurePresent(`file:${join(dir, 'm.gguf')}`, null, { engine: 'llamacpp' })
  t.equal(app.catalog.lifecycle(r.id), 'Active')
  t.equal(app.models.idOf('m.gguf'), `file:${join(dir, 'root/m.gguf')}`)
  t.match((await app.inject({ url: '/metrics' })).body, 'catalog_verifications_total{result="warn",reason="no_expected_digest",engine="llamacpp"} 1')
  t.match((await app.inject({ url: '/metrics' })).body, `model_state{model_id="${r.id}",state="Active"} 1`)
  t.ok(capture.records().some((rec) => rec.actor === 'model-provisioner' && rec.action === 'register'), 'narrated')
})

t.test('the plugin takes an injected command runner and environment', async (t) => {
  const { default: models } = await import('../index.js')
  const Fastify = (await import('fastify')).default
  const runner = fakeRunner(['oras'], { 'x/model.plan': 'p' })
  const { default: correlation } = await import('../../correlation/index.js')
  const { default: narration } = await import('../../narration/index.js')
  const { default: metrics } = await import('../../metrics/index.js')
  const { default: catalog } = await import('../../catalog/index.js')
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(correlation)
  await app.register(narration)
  await app.register(metrics, { buckets_ms: [50] })
  await app.register(catalog, { root: t.testdir() })
  await app.register(models, {
    policy: { allow_outbound_network: true, outbound_allowlist: [] },
    fetch: { concurrency: 1, hf_cli: false, hf_endpoint: null, idle_timeout_ms: 1000 },
    runner,
    env: {},
  })
  const r = await app.models.ensurePresent('oci://reg.local/m:v1')
  t.equal(r.lifecycle, 'Active')
  t.equal(runner.calls.length, 1)
})
