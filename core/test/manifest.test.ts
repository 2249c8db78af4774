import t from 'tap'
import { readdirSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadManifest, parseManifest, parseManifestText } from '../manifest-load.js'
import { ManifestError } from '../errors.js'
import { fromRoot } from '../../lib/package-root.js'

const issuesOf = (fn: () => unknown): string[] => {
  try { fn() } catch (err) {
    if (err instanceof ManifestError) return err.lines
    throw err
  }
  throw new Error('expected a ManifestError')
}

const pool = (extra: Record<string, unknown> = {}) => ({ id: 'p0', engine: 'llamacpp', model: 'm', devices: [0], ...extra })

t.test('an empty document gets every default (ORCH config defaults)', async (t) => {
  const m = parseManifest({ pools: [] })
  t.same(m.server, { host: '127.0.0.1', port: 8080, log_level: 'info', log_format: 'json', body_limit_bytes: 1_048_576, shutdown_timeout_ms: 10_000 })
  t.same(m.policy, {
    allow_outbound_network: false,
    outbound_allowlist: [],
    engine_env_passthrough: [],
    allow_package_installs: false,
    allow_binary_downloads: false,
  })
  t.same(m.providers, [])
  t.same(m.adapters, [])
  t.same(m.metrics.buckets_ms, [50, 100, 200, 500, 1000, 5000, 10000])
})

t.test('a pool gets queue, provisioning, supervision and health-check defaults', async (t) => {
  const m = parseManifest({ pools: [pool()] })
  const p = m.pools[0]!
  t.same(p.queue, { capacity: 128, full_policy: 'reject' })
  t.equal(p.provisioning.compute_policy, 'cpu-fallback', 'decision 1: default cpu-fallback')
  t.equal(p.provisioning.host, '127.0.0.1')
  t.equal(p.supervision.backoff_initial_ms, 1000)
  t.equal(p.supervision.breaker_max_restarts, 5)
  t.equal(p.health_check.failure_threshold, 3)
})

t.test('an unknown key, a wrong type and a missing field are all reported in one run', async (t) => {
  const lines = issuesOf(() => parseManifest({
    server: { port: 'eighty' },
    pools: [{ id: 'p0', model: 'm', devices: [0], provisioning: { foo: 1 } }],
  }))
  t.match(lines, [
    /^\/pools\/0\/engine: is required$/,
    /^\/pools\/0\/provisioning\/foo: is not a known key; known keys here: mode, compute_policy/,
    /^\/server\/port: must be an integer$/,
  ])
  t.equal(lines.length, 3)
})

t.test('explicit null is accepted where the original format allows it (§5.5)', async (t) => {
  const m = parseManifest({ pools: [pool({ tensor_split: null, quant: null, provisioning: { mode: null, ports: null } })] })
  t.equal(m.pools[0]!.tensor_split, null)
})

t.test('enumerations list the allowed values', async (t) => {
  t.same(issuesOf(() => parseManifest({ pools: [pool({ queue: { full_policy: 'drop-oldest' } })] })),
    ['/pools/0/queue/full_policy: must be "reject" or "drop-lru"'])
  t.same(issuesOf(() => parseManifest({ pools: [pool({ quant: 4 })] })),
    ['/pools/0/quant: must be a string or null'])
})

t.test('mode-conditional requirements (OC-CONFIG-6024/6025)', async (t) => {
  const check = (provisioning: Record<string, unknown>) => issuesOf(() => parseManifest({ pools: [pool({ provisioning })] }))
  t.doesNotThrow(() => parseManifest({ pools: [pool({ provisioning: { mode: 'source' } })] }),
    'source without a source section builds the bundled llama.cpp release')
  t.same(check({ mode: 'container', container: {} }), ['/pools/0/provisioning/container/image: is required when provisioning.mode is container'])
  t.same(check({ mode: 'package' }), ['/pools/0/provisioning/package/name: is required when provisioning.mode is package'])
  t.same(check({ mode: 'binary', binary: { url: 'https://x/y.tgz' } }),
    ['/pools/0/provisioning/binary/checksum: is required when provisioning.mode is binary'], 'spec §6 scenario 54')
  t.match(check({ mode: 'external' }), [/^\/pools\/0\/provisioning\/ports: is required when provisioning.mode is external/])
  t.doesNotThrow(() => parseManifest({ pools: [pool({ provisioning: { mode: 'source', source: { repo: 'https://x', ref: 'abc' } } })] }))
})

t.test('cross-field rules: unique ids, devices vs compute policy, tensor_split, buckets, duplicate extensions', async (t) => {
  t.same(issuesOf(() => parseManifest({ pools: [pool(), pool()] })), ['/pools/1/id: duplicates the id of /pools/0; pool ids must be unique'])
  t.match(issuesOf(() => parseManifest({ pools: [pool({ devices: [], provisioning: { compute_policy: 'gpu-required' } })] })),
    [/^\/pools\/0\/devices: is empty but compute_policy is gpu-required/])
  t.doesNotThrow(() => parseManifest({ pools: [pool({ devices: [], provisioning: { compute_policy: 'cpu-only' } })] }))
  t.same(issuesOf(() => parseManifest({ pools: [pool({ tensor_split: [0.5, 0.5] })] })),
    ['/pools/0/tensor_split: has 2 ratios for 1 devices; give one ratio per device'], 'spec §6 scenario 23')
  t.same(
    issuesOf(() => parseManifest({
      pools: [pool({ devices: [0, 1], tensor_split: [0.5, 0.5], provisioning: { mode: 'embedded', compute_policy: 'gpu-required' } })],
    })),
    ['/pools/0/tensor_split: cannot be honoured in embedded mode (node-llama-cpp places layers itself); remove it, or use a llama.cpp source or binary engine'],
    'rather than ignored'
  )
  t.match(
    issuesOf(() => parseManifest({ pools: [pool({ devices: [0], tensor_split: [1], provisioning: { mode: 'external', ports: [8081] } })] })),
    [/tensor_split: cannot be honoured for an external engine/]
  )
  t.same(
    issuesOf(() => parseManifest({ pools: [pool({ devices: [0, 1], tensor_split: [3, 1], provisioning: { mode: 'source', compute_policy: 'cpu-only' } })] })),
    ['/pools/0/tensor_split: cannot be honoured under compute_policy cpu-only (no GPUs to split over); remove it']
  )
  t.doesNotThrow(() => parseManifest({ pools: [pool({ devices: [0, 1], tensor_split: [3, 1], provisioning: { mode: 'source' } })] }),
    'a llama.cpp source pool passes it to llama-server as --tensor-split')
  t.same(issuesOf(() => parseManifest({ pools: [], metrics: { buckets_ms: [10, 10, 20] } })), ['/metrics/buckets_ms/1: buckets must be strictly increasing'])
  t.same(
    issuesOf(() => parseManifest({ pools: [], adapter_host: { breaker: { cooldown_ms: 5000, max_cooldown_ms: 1000 } } })),
    ['/adapter_host/breaker/max_cooldown_ms: is 1000, below cooldown_ms 5000; the cap must be at least the first cool-down']
  )
  t.same(issuesOf(() => parseManifest({ pools: [], adapters: ['a', { package: 'a' }] })), ['/adapters/1: enables "a" a second time (first at /adapters/0)'])
})

t.test('extension entries: names, objects and their unknown keys', async (t) => {
  const m = parseManifest({ pools: [], adapters: ['orc-adapter-x', { package: '@acme/orc-adapter-y', options: { k: 1 }, enabled: false }] })
  t.equal(m.adapters.length, 2)
  t.same(issuesOf(() => parseManifest({ pools: [], adapters: [{ package: 'x', opts: {} }] })),
    ['/adapters/0/opts: is not a known key; known keys here: package, options, enabled'], 'the object form is explained, not "must be string"')
  t.match(issuesOf(() => parseManifest({ pools: [], adapters: [42] })), ['/adapters/0: must be a string or an object'])
  t.match(issuesOf(() => parseManifest({ pools: [], providers: ['Not A Package'] })), [/^\/providers\/0: must match pattern/])
})

t.test('YAML problems point at their line', async (t) => {
  const lines = issuesOf(() => parseManifestText('server:\n  port: 80\n  colour: blue\npools: []\n', 'x.yaml'))
  t.same(lines, [
    '/server/colour: is not a known key; known keys here: host, port, log_level, log_format, body_limit_bytes, shutdown_timeout_ms, run_dir (line 3)',
  ])
  const syntax = issuesOf(() => parseManifestText('server: [unclosed\npools: []\n', 'x.yaml'))
  t.match(syntax, [/line \d+:\d+\)$/])
  t.match(issuesOf(() => parseManifestText('pools: []\npools: []\n', 'x.yaml')), [/Map keys must be unique/], 'duplicate keys are errors')
  t.same(issuesOf(() => parseManifestText('{}', 'x.json')), ['/pools: is required (line 1)'])
})

t.test('JSON manifests parse as well as YAML', async (t) => {
  const m = parseManifestText(JSON.stringify({ pools: [pool()], server: { port: 9000 } }), 'x.json')
  t.equal(m.server.port, 9000)
})

t.test('an invalid manifest error names the source and counts problems', async (t) => {
  try {
    parseManifest({ pools: 'none' }, 'my.yaml')
    t.fail('should throw')
  } catch (err) {
    t.ok(err instanceof ManifestError)
    t.equal((err as ManifestError).code, 'ORC_ERR_MANIFEST_INVALID')
    t.match((err as Error).message, /^llama-orch: my\.yaml is invalid \(1 problem\):\n {2}\/pools: must be an array$/)
  }
})

t.test('loadManifest reads files and reports a missing one clearly', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'orc-manifest-'))
  const file = join(dir, 'm.yaml')
  await writeFile(file, 'pools: []\nserver: { port: 1234 }\n')
  t.equal((await loadManifest(file)).server.port, 1234)
  await t.rejects(loadManifest(join(dir, 'nope.yaml')), { code: 'ORC_ERR_MANIFEST_READ', message: /nope\.yaml: no such file/ })
  await t.rejects(loadManifest(dir), { code: 'ORC_ERR_MANIFEST_READ', message: /EISDIR/ })
})

t.test('every example config shipped in examples/ is valid (OC-CONFIG-6002)', async (t) => {
  const files = readdirSync(fromRoot('examples')).filter((f) => /\.(ya?ml|json)$/.test(f))
  t.ok(files.length > 0)
  for (const f of files) await t.resolves(loadManifest(fromRoot('examples', f)), f)
})
