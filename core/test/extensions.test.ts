import t from 'tap'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { resolveExtensions, engineCoverageIssues, declaredEngines, type Importer } from '../extensions.js'
import { ManifestError } from '../errors.js'
import { EXTENSION_API } from '../../sdk/index.js'
import type { Builtins } from '../builtins.js'
import { manifestOf, FIXTURE_ADAPTER } from '../../test/helpers/build.js'

const plugin = fp(async () => {}, { name: 'x', fastify: '5.x' })
const descriptor = (extra: Record<string, unknown> = {}) => ({ kind: 'adapter', apiVersion: EXTENSION_API, optionsSchema: Type.Object({}), ...extra })
const importerOf = (mods: Record<string, unknown>): Importer => async (name) => {
  if (name in mods) return mods[name]
  const err = Object.assign(new Error(`Cannot find package '${name}' imported from /x`), { code: 'ERR_MODULE_NOT_FOUND' })
  throw err
}

const linesOf = async (p: Promise<unknown>): Promise<string[]> => {
  try { await p } catch (err) {
    if (err instanceof ManifestError) return err.lines
    throw err
  }
  throw new Error('expected a ManifestError')
}

t.test('a third-party adapter package is imported by its npm name, options validated with defaults', async (t) => {
  const m = manifestOf({ adapters: [{ package: FIXTURE_ADAPTER, options: { api_key: 'sk-canary-1234567890' } }] })
  const { adapters, providers } = await resolveExtensions(m)
  t.equal(providers.length, 0)
  t.equal(adapters.length, 1)
  const [a] = adapters
  t.equal(a!.name, FIXTURE_ADAPTER)
  t.equal(a!.builtin, false)
  t.equal(a!.at, '/adapters/0')
  t.same(a!.options, { api_key: 'sk-canary-1234567890', prefix: '', max_streams: 4 }, 'defaults from the extension schema')
  t.same(a!.descriptor.engines, ['fixture'])
  t.equal(typeof a!.plugin, 'function')
})

t.test('a package that is not installed names the entry and the package, with the fix', async (t) => {
  const lines = await linesOf(resolveExtensions(manifestOf({ adapters: ['orc-adapter-not-installed'] })))
  t.same(lines, [
    '/adapters/0: package "orc-adapter-not-installed" is not installed; ' +
    'install it next to llama-orch with `npm install orc-adapter-not-installed`, or fix the name (built-in adapters: llamacpp, vllm, tgi, triton, openai)',
  ])
})

t.test('built-ins load from the static map and shadow packages of the same name', async (t) => {
  const builtins: Builtins = { adapter: { echo: async () => ({ default: plugin, extension: descriptor() }) }, provisioner: {} }
  const { adapters } = await resolveExtensions(manifestOf({ adapters: ['echo'] }), { builtins, importer: importerOf({}) })
  t.equal(adapters[0]!.builtin, true)
  const lines = await linesOf(resolveExtensions(manifestOf({ adapters: ['ech'] }), { builtins, importer: importerOf({}) }))
  t.match(lines, [/\(built-in adapters: echo\)$/], 'a typo lists the built-ins')
})

t.test('every broken entry is reported at once, each naming its entry', async (t) => {
  const importer = importerOf({
    'no-descriptor': { default: plugin },
    'no-plugin': { extension: descriptor() },
    'is-provisioner': { default: plugin, extension: descriptor({ kind: 'provisioner' }) },
    'api-v2': { default: plugin, extension: descriptor({ apiVersion: 2 }) },
    'strict-options': { default: plugin, extension: descriptor({ optionsSchema: Type.Object({ url: Type.String() }, { additionalProperties: false }) }) },
    'is-adapter': { default: plugin, extension: descriptor() },
  })
  const m = manifestOf({
    adapters: [
      'no-descriptor',
      'no-plugin',
      'is-provisioner',
      'api-v2',
      { package: 'strict-options', options: { uri: 'x' } },
      { package: 'skipped', enabled: false },
    ],
    providers: ['is-adapter'],
  })
  const lines = await linesOf(resolveExtensions(m, { importer }))
  t.same(lines, [
    '/providers/0: "is-adapter" is a adapter, but it is listed under providers; move it to adapters',
    '/adapters/0: "no-descriptor" is not a llama-orch extension: it must export `extension = { kind, apiVersion, optionsSchema }` (see llama-orch/sdk)',
    '/adapters/1: "no-plugin" must export a Fastify plugin as its default export',
    '/adapters/2: "is-provisioner" is a provisioner, but it is listed under adapters; move it to providers',
    `/adapters/3: "api-v2" targets extension API v2, but this llama-orch speaks v${EXTENSION_API}; install a version of it built for v${EXTENSION_API}`,
    '/adapters/4/options/uri: is not a known key; known keys here: url',
    '/adapters/4/options/url: is required',
  ])
})

t.test('a package that fails while loading is told apart from a missing one', async (t) => {
  const importer: Importer = async () => {
    throw Object.assign(new Error("Cannot find package 'left-pad' imported from /x/node_modules/orc-a/index.js"), { code: 'ERR_MODULE_NOT_FOUND' })
  }
  t.same(await linesOf(resolveExtensions(manifestOf({ adapters: ['orc-a'] }), { importer })),
    ['/adapters/0: adapter "orc-a" failed to load: Cannot find package \'left-pad\' imported from /x/node_modules/orc-a/index.js'])
  const throwing: Importer = async () => { throw new SyntaxError('Unexpected token') }
  t.same(await linesOf(resolveExtensions(manifestOf({ providers: ['orc-b'] }), { importer: throwing })),
    ['/providers/0: provisioner "orc-b" failed to load: Unexpected token'])
})

t.test('engine coverage: every pool needs an adapter serving its engine (decision 7)', async (t) => {
  const m = manifestOf({ pools: [{ id: 'a', engine: 'vllm', model: 'm', devices: [0] }, { id: 'b', engine: 'fixture', model: 'm', devices: [0] }] })
  t.same(engineCoverageIssues(m.pools, ['fixture']), [{
    path: '/pools/0/engine',
    message: 'no enabled adapter serves engine "vllm"; enable one under adapters (engines served now: fixture)',
  }])
  t.match(engineCoverageIssues(m.pools, [])[1]!.message, /engines served now: none/)
})

t.test('declared engines are known only when every adapter declares them', async (t) => {
  const { adapters } = await resolveExtensions(manifestOf({ adapters: [FIXTURE_ADAPTER] }))
  t.same(declaredEngines(adapters), ['fixture'])
  t.equal(declaredEngines([{ ...adapters[0]!, descriptor: { ...adapters[0]!.descriptor, engines: undefined } } as never]), undefined)
})

t.test('the SDK is published as llama-orch/sdk (package self-reference to the build)', async (t) => {
  const specifier = 'llama-orch/sdk'
  const sdk = await import(specifier) as { EXTENSION_API: number }
  t.equal(sdk.EXTENSION_API, EXTENSION_API)
})
