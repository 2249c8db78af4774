/**
 * issue 10 #14: `config check` and boot refuse what cannot run and keys that do nothing, each
 * naming the key and what to use instead. Real files through the real CLI, and real boots.
 */
import t from 'tap'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cli } from '../../test/helpers/cli.js'
import { build, manifestOf, fixturePool, FIXTURE_ADAPTER } from '../../test/helpers/build.js'
import { buildApp } from '../app.js'
import { parseManifest } from '../manifest-load.js'
import { ManifestError } from '../errors.js'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { resolveExtensions, type Importer } from '../extensions.js'
import { declaredHandles, poolCheckIssues, providerCoverageIssues } from '../provider-coverage.js'
import { EXTENSION_API } from '../../sdk/index.js'

const tmpFile = async (text: string): Promise<string> => {
  const file = join(await mkdtemp(join(tmpdir(), 'orc-refusals-')), 'm.yaml')
  await writeFile(file, text)
  return file
}

const issuesOf = (fn: () => unknown): string[] => {
  try { fn() } catch (err) {
    if (err instanceof ManifestError) return err.lines
    throw err
  }
  throw new Error('expected a ManifestError')
}

/** A llamacpp pool for the built-in embedded provider, with what a test adds. */
const embeddedPool = (provisioning: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  id: 'tiny',
  engine: 'llamacpp',
  model: 'tiny',
  devices: [],
  provisioning: { mode: 'embedded', compute_policy: 'cpu-only', ...provisioning },
  ...extra,
})

const yamlOf = (doc: Record<string, unknown>): string => JSON.stringify(doc) // JSON is YAML 1.2

t.test('issue 10 #14: config check refuses a pool no enabled provider serves, naming mode, providers and the fix', async (t) => {
  // mode absent: llamacpp defaults to source, which no provider here builds
  const sourcePool = { id: 'tiny', engine: 'llamacpp', model: 'tiny', devices: [], provisioning: { compute_policy: 'cpu-only' } }
  const none = await tmpFile(yamlOf({ adapters: ['llamacpp'], pools: [sourcePool] }))
  const res = await cli('config', 'check', none)
  t.equal(res.code, 1)
  t.same(res.out, [])
  t.equal(res.err[0], `${none}: invalid (1 problem)`)
  t.match(res.err[1], /^\/pools\/0\/provisioning\/mode: pool tiny: no enabled provider handles engine "llamacpp" in mode "source" \(the default for llamacpp when mode is absent\); enabled providers: none\. Enable the built-in provider llamacpp under providers, or set provisioning\.mode to embedded \(after enabling the built-in provider embedded\) or external \(an engine you start yourself, its port in provisioning\.ports\)$/)
  // enabling the provider it names is the whole fix (issue 12 acceptance)
  const fixed = await tmpFile(yamlOf({ providers: ['llamacpp'], adapters: ['llamacpp'], pools: [sourcePool] }))
  t.equal((await cli('config', 'check', fixed)).code, 0)

  // an enabled provider that handles something else is named with what it handles
  const other = await tmpFile(yamlOf({
    providers: ['embedded'],
    adapters: ['llamacpp', 'vllm'],
    pools: [embeddedPool(), { id: 'v', engine: 'vllm', model: 'm', devices: [0], provisioning: { mode: 'container', container: { image: 'vllm/vllm' } } }],
  }))
  const res2 = await cli('config', 'check', other)
  t.equal(res2.code, 1)
  t.match(res2.err[1], /^\/pools\/1\/provisioning\/mode: pool v: no enabled provider handles engine "vllm" in mode "container"; enabled providers: embedded \(llamacpp\/embedded\)\. Enable the built-in provider vllm under providers, or set provisioning\.mode to external/)
  t.equal(res2.err.length, 2, 'the embedded pool is served')

  // a built-in provider that would serve it is named
  const off = await tmpFile(yamlOf({ adapters: ['llamacpp'], pools: [embeddedPool()] }))
  t.match((await cli('config', 'check', off)).err[1],
    /^\/pools\/0\/provisioning\/mode: pool tiny: no enabled provider handles engine "llamacpp" in mode "embedded"; enabled providers: none\. Enable the built-in provider embedded under providers, or set provisioning\.mode to source \(after enabling the built-in provider llamacpp\) or binary .* or external/)

  // the quick start stays valid
  t.equal((await cli('config', 'check', 'examples/quickstart.yaml')).code, 0)
})

t.test('issue 10 #14: boot refuses a pool no enabled provider serves, before any pool starts', async (t) => {
  const container = { mode: 'container', container: { image: 'x' }, compute_policy: 'cpu-only' }
  const manifest = manifestOf({ adapters: [FIXTURE_ADAPTER], pools: [fixturePool('c', { provisioning: container })] })
  const app = await buildApp(manifest, { source: 'cfg.yaml' })
  t.teardown(() => app.close())
  const err = await app.ready().then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof ManifestError, 'ready() rejects with the manifest problem')
  t.match((err as ManifestError).lines, [/^\/pools\/0\/provisioning\/mode: pool c: no enabled provider handles engine "fixture" in mode "container"; enabled providers: none\./])
  t.equal(app.pool.registry.get('c')?.state, 'Unready', 'the pool never started (no Backoff)')

  // the real start: `serve` exits 1 with the problem and leaves nothing listening
  const dir = await mkdtemp(join(tmpdir(), 'orc-refusals-serve-'))
  const file = await tmpFile(yamlOf({
    server: { port: 0, run_dir: join(dir, 'run') },
    catalog: { root: join(dir, 'models'), artifacts_store: 'memory' },
    adapters: [FIXTURE_ADAPTER],
    pools: [fixturePool('c', { provisioning: container })],
  }))
  const served = await cli('serve', '--config', file)
  t.equal(served.code, 1)
  t.match(served.err.join('\n'), /is invalid \(1 problem\):\n {2}\/pools\/0\/provisioning\/mode: pool c: no enabled provider handles engine "fixture" in mode "container"/)
})

t.test('issue 10 #14: pools[].admission (priorities) is refused with what to use instead', async (t) => {
  const file = await tmpFile(yamlOf({
    pools: [{
      id: 'p',
      engine: 'llamacpp',
      model: 'm',
      devices: [],
      provisioning: { mode: 'external', ports: [8081] },
      admission: { priorities: [{ name: 'interactive', weight: 2 }] },
    }],
  }))
  const res = await cli('config', 'check', file)
  t.equal(res.code, 1)
  t.match(res.err[1], /^\/pools\/0\/admission: is not supported: per-priority queue capacity, rate and weight are not built; .*`priority` field.*pools\[\]\.queue\.capacity.*queue\.throttle \(line 1\)$/)
  // boot reads the manifest the same way
  t.match(issuesOf(() => manifestOf({ pools: [fixturePool('a', { admission: { priorities: [] } })] })), [/^\/pools\/0\/admission: is not supported/])
})

t.test('issue 10 #14: provisioning.model.cache_dir is refused, pointing at catalog.root', async (t) => {
  const pools = [embeddedPool({ model: { ref: 'tiny.gguf', cache_dir: '/srv/models' } })]
  const file = await tmpFile(yamlOf({ providers: ['embedded'], adapters: ['llamacpp'], pools }))
  const res = await cli('config', 'check', file)
  t.equal(res.code, 1)
  t.match(res.err[1], /^\/pools\/0\/provisioning\/model\/cache_dir: is not supported: models are staged under the one catalog root .*set catalog\.root instead/)
})

t.test('issue 10 #14: config check refuses embedded flags the worker would never see, naming each flag', async (t) => {
  const file = await tmpFile(yamlOf({
    providers: ['embedded'],
    adapters: ['llamacpp'],
    pools: [embeddedPool({
      flags: ['--n-gpu-layers', '20', '-t', '2', '--ctx-size=512', '--parallel', 'x', '--metrics', '--threads', '3', '-c', '256'],
    }, { ctx: 1024 })],
  }))
  const res = await cli('config', 'check', file)
  t.equal(res.code, 1)
  t.same(res.err.slice(1), [
    '/pools/0/provisioning/flags/0: "--n-gpu-layers" is not passed on by the embedded provider (it honours only --threads/-t N, --parallel/-np N, ' +
      '--ctx-size/-c N and --metrics); remove it, or run llama-server yourself and attach it with provisioning.mode: external',
    '/pools/0/provisioning/flags/4: write "--ctx-size=512" as two entries ("--ctx-size", "512"); ' +
      'the embedded provider reads a flag\'s value from the next entry',
    '/pools/0/provisioning/flags/5: --parallel needs a positive integer as the next entry, got "x"',
    '/pools/0/provisioning/flags/8: sets --threads a second time (first at /provisioning/flags/2); only the first would be used, remove one',
    '/pools/0/provisioning/flags/10: -c 256 contradicts the pool\'s ctx 1024, which wins; remove the flag or make them equal',
  ])
  const honoured = [embeddedPool({ flags: ['-t', '2', '--parallel', '2', '--metrics'] })]
  const good = await tmpFile(yamlOf({ providers: ['embedded'], adapters: ['llamacpp'], pools: honoured }))
  t.equal((await cli('config', 'check', good)).code, 0, 'the flags it passes on are accepted')
})

t.test('issue 10 #14: boot refuses an embedded flag it would drop', async (t) => {
  const err = await build(t, { providers: ['embedded'], adapters: ['llamacpp'], pools: [embeddedPool({ flags: ['--flash-attn'] }, { preload: false })] })
    .then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof ManifestError)
  t.match((err as ManifestError).lines, [/^\/pools\/0\/provisioning\/flags\/0: "--flash-attn" is not passed on by the embedded provider/])
})

t.test('issue 10 #14: provisioning keys the pool\'s mode never reads are refused', async (t) => {
  const of = (provisioning: Record<string, unknown>, engine = 'llamacpp') =>
    issuesOf(() => parseManifest({ pools: [{ id: 'p', engine, model: 'm', devices: [], provisioning: { compute_policy: 'cpu-only', ...provisioning } }] }))
  t.same(of({ mode: 'embedded', source: { repo: 'r', ref: 'x' }, binary: { url: 'u' } }), [
    '/pools/0/provisioning/binary: is read only in provisioning.mode binary, but this pool\'s mode is embedded; remove it, or set mode: binary',
    '/pools/0/provisioning/source: is read only in provisioning.mode source, but this pool\'s mode is embedded; remove it, or set mode: source',
  ])
  // mode absent is the engine's default: container for vllm
  t.same(of({ container: { image: 'i' }, source: { repo: 'r', ref: 'x' } }, 'vllm'),
    ['/pools/0/provisioning/source: is read only in provisioning.mode source, but this pool\'s mode is container; remove it, or set mode: source'])
  const started = 'an external engine is one you start yourself, so llama-orch passes nothing to it'
  t.same(of({ mode: 'external', ports: [8081, 8082], flags: ['--foo'], env: { A: 'b' }, allow_package_installs: true }), [
    '/pools/0/provisioning/allow_package_installs: gates mode source and package only, and mode external installs or downloads nothing; remove it',
    `/pools/0/provisioning/env: ${started}; remove env and set it where you start the engine`,
    `/pools/0/provisioning/flags: ${started}; remove flags and give them to the engine's own command line`,
    '/pools/0/provisioning/ports/1: mode external uses ports[0] only (the engine port); remove the other ports',
  ])
  t.same(of({ mode: 'embedded', allow_binary_downloads: true }),
    ['/pools/0/provisioning/allow_binary_downloads: gates mode binary only, and mode embedded installs or downloads nothing; remove it'])
  const narrow = { mode: 'external', ports: [8081], allow_package_installs: false }
  t.doesNotThrow(() => parseManifest({ pools: [{ id: 'p', engine: 'llamacpp', model: 'm', devices: [], provisioning: narrow }] }),
    'false gates narrow nothing that happens, and are accepted')
})

t.test('issue 10 #14: a policy gate set to true with no provider it could gate is refused (config check and boot)', async (t) => {
  const file = await tmpFile(yamlOf({ policy: { allow_package_installs: true, allow_binary_downloads: true }, providers: ['embedded'], pools: [] }))
  const res = await cli('config', 'check', file)
  t.equal(res.code, 1)
  t.same(res.err.slice(1), [
    '/policy/allow_binary_downloads: is true, but no enabled provider handles mode binary, the only ones it gates; remove it, or enable such a provider',
    '/policy/allow_package_installs: is true, but no enabled provider handles mode source or package, the only ones it gates; ' +
      'remove it, or enable such a provider',
  ])
  const app = await buildApp(manifestOf({ policy: { allow_binary_downloads: true } }), { source: 'cfg.yaml' })
  t.teardown(() => app.close())
  const err = await app.ready().then(() => undefined, (e: unknown) => e)
  t.match((err as ManifestError).lines, [/^\/policy\/allow_binary_downloads: is true, but no enabled provider handles mode binary/])
  // a provider that handles the gated mode makes the gate mean something
  const { app: ok } = await build(t, { policy: { allow_binary_downloads: true } }, {
    setup: (a) => {
      a.provisioners.add({
        name: 'bin',
        handles: [{ engine: '*', mode: 'binary' }],
        plan: (p) => ({ pool_id: p.id, steps: [] }),
        prepare: async () => { throw new Error('unused') },
      })
    },
  })
  t.ok(ok.hasDecorator('pool'))
})

t.test('issue 10 #14: catalog.trust_policy.ca_roots, which nothing checks, is refused', async (t) => {
  t.same(issuesOf(() => parseManifest({ pools: [], catalog: { trust_policy: { require_signature: true, ca_roots: ['/etc/ssl/ca.pem'] } } })), [
    '/catalog/trust_policy/ca_roots: is not supported: signatures are not checked against CA roots ' +
      '(a signature counts when its entry records verified: true); remove it, and keep require_signature to demand a verified signature',
  ])
  t.doesNotThrow(() => parseManifest({ pools: [], catalog: { trust_policy: { require_signature: true, ca_roots: [] } } }))
})

t.test('issue 10 #14: a third-party provider declares handles and checkPool; the exact engine wins over `*`', async (t) => {
  const plugin = fp(async () => {}, { name: 'p', fastify: '5.x' })
  const provider = (extension: Record<string, unknown>) =>
    ({ default: plugin, extension: { kind: 'provisioner', apiVersion: EXTENSION_API, optionsSchema: Type.Object({}), ...extension } })
  const importer: Importer = async (name) => ({
    'orc-any': provider({ handles: [{ engine: '*', mode: 'container' }], checkPool: () => [{ path: '/provisioning/container', message: 'from any' }] }),
    'orc-vllm': provider({
      handles: [{ engine: 'vllm', mode: 'container' }],
      checkPool: (p: { id: string }) => [{ path: '/id', message: `vllm checks ${p.id}` }],
    }),
    'orc-broken': provider({ handles: [{ engine: 'tgi', mode: 'container' }], checkPool: () => { throw new Error('boom\nstack') } }),
    'orc-bad': provider({ checkPool: 'yes' }),
    'orc-bad-mode': provider({ handles: [{ engine: 'x', mode: 'teleport' }] }),
  } as Record<string, unknown>)[name]
  const container = { mode: 'container', container: { image: 'i' } }
  const pools = [
    { id: 'v', engine: 'vllm', model: 'm', devices: [0], provisioning: container },
    { id: 'g', engine: 'tgi', model: 'm', devices: [0], provisioning: container },
    { id: 'o', engine: 'other', model: 'm', devices: [0], provisioning: container },
    { id: 'x', engine: 'other', model: 'm', devices: [0], provisioning: { mode: 'external', ports: [1] } },
  ]
  const { providers } = await resolveExtensions(manifestOf({ providers: ['orc-any', 'orc-vllm', 'orc-broken'], pools }), { importer })
  const m = manifestOf({ pools })
  t.same(declaredHandles(providers)?.map((p) => p.name), ['orc-any', 'orc-vllm', 'orc-broken'])
  t.same(providerCoverageIssues(m.pools, declaredHandles(providers)!), [], 'every pool is served')
  t.same(poolCheckIssues(m.pools, providers), [
    { path: '/pools/0/id', message: 'vllm checks v' },
    { path: '/pools/1', message: 'provider orc-broken failed to check this pool: boom' },
    { path: '/pools/2/provisioning/container', message: 'from any' },
  ])
  t.equal(declaredHandles([...providers, { ...providers[0]!, descriptor: { ...providers[0]!.descriptor, handles: undefined } }]), undefined,
    'one provider without handles turns the config check off')
  const err = await resolveExtensions(manifestOf({ providers: ['orc-bad', 'orc-bad-mode'] }), { importer }).catch((e: unknown) => e)
  t.match((err as ManifestError).lines, [
    /^\/providers\/0: "orc-bad" exports an `extension.checkPool` that is not a function/,
    /^\/providers\/1: "orc-bad-mode" is not a llama-orch extension/,
  ])
})
