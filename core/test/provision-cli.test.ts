import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cli } from '../../test/helpers/cli.js'
import { writeTinyModel } from '../../extensions/provider-embedded/tiny-file.js'
import { findTools } from '../../lib/provision/preflight.js'
import { progressPrinter } from '../provision-progress.js'

t.setTimeout(900_000)
const dir = mkdtempSync(join(tmpdir(), 'orc-provision-cli-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, doc: unknown): string => { const f = join(dir, name); writeFileSync(f, JSON.stringify(doc)); return f }

t.test('provision --plan prints the same plan twice in a row for every example config (issue 12 acceptance)', async (t) => {
  const examples = readdirSync('examples').filter((f) => f.endsWith('.yaml'))
  t.ok(examples.length >= 3)
  for (const ex of examples) {
    const first = await cli('provision', '--config', join('examples', ex), '--plan')
    const second = await cli('provision', '--config', join('examples', ex), '--plan')
    t.equal(first.code, 0, `${ex}: ${first.err.join(' ')}`)
    t.ok(first.out.length > 2 && /^pool \S+ \(engine \S+, mode \S+, provider \S+\)$/.test(first.out[0]!), `${ex} prints its steps`)
    t.same(second.out, first.out, `${ex}: identical`)
  }
  const json = await cli('provision', '--config', 'examples/llamacpp-source.yaml', '--plan', '--json')
  t.match(JSON.parse(json.out.join('\n')), [{ pool_id: 'tiny-src', provider: 'llamacpp', steps: [{ kind: 'preflight-tools' }, { kind: 'git-clone' }] }])
})

t.test('provision refuses what it cannot do, naming the fix', async (t) => {
  const usage = await cli('provision', '--config', 'examples/quickstart.yaml', '--pool', 'nope')
  t.equal(usage.code, 2)
  t.match(usage.err.join('\n'), /no pool "nope" in examples\/quickstart\.yaml \(pools: tiny\)/)
  t.equal((await cli('provision')).code, 2, '--config is required')
  const unserved = file('unserved.json', {
    adapters: ['llamacpp'],
    pools: [{ id: 's', engine: 'llamacpp', model: 'm', devices: [], provisioning: { compute_policy: 'cpu-only' } }],
  })
  const refused = await cli('provision', '--config', unserved)
  t.equal(refused.code, 1)
  t.match(refused.err.join('\n'), /pool s: no enabled provider handles engine "llamacpp" in mode "source".*Enable the built-in provider llamacpp under providers/)
  const external = file('external.json', {
    adapters: ['llamacpp'],
    pools: [{ id: 'x', engine: 'llamacpp', model: 'm', devices: [], provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [18080] } }],
  })
  const ext = await cli('provision', '--config', external, '--plan')
  t.equal(ext.code, 0)
  t.same(ext.out, ['pool x (engine llamacpp, mode external): nothing to provision; llama-orch attaches to the engine at 127.0.0.1:18080'])
})

const missing = (await findTools(['git', 'cmake', 'build-tool', 'compiler'])).filter((x) => x.found === null)
t.test('provision builds a source pool and records its EngineEntry in the catalog', { skip: missing.length > 0 ? 'no build toolchain' : false }, async (t) => {
  const engines = process.env.LLAMA_ORCH_ENGINE_CACHE ?? join(dir, 'engines')
  await writeTinyModel(join(dir, 'tiny.gguf'))
  const cfg = file('source.json', {
    providers: [{ package: 'llamacpp', options: { cache_dir: engines } }],
    adapters: ['llamacpp'],
    catalog: { root: dir },
    pools: [{
      id: 'src',
      engine: 'llamacpp',
      model: 'tiny',
      devices: [],
      provisioning: { mode: 'source', compute_policy: 'cpu-only', source: { build: { cmake_flags: ['-DGGML_NATIVE=OFF'] } }, model: { ref: 'tiny.gguf' } },
    }],
  })
  const res = await cli('provision', '--config', cfg, '--json')
  t.equal(res.code, 0, res.err.join('\n'))
  const [prepared] = JSON.parse(res.out.join('\n')) as Array<Record<string, any>>
  t.match(prepared, { engine: 'llamacpp', mode: 'source', compute_mode: 'cpu', binary_path: /\/bin\/llama-server$/, engine_catalog_id: /^llamacpp:llama\.cpp-/ })
  const index = JSON.parse(readFileSync(join(dir, 'engines.json'), 'utf8')) as { entries: Record<string, unknown> }
  t.match(index.entries[prepared!.engine_catalog_id], { build_ref: prepared!.build_ref, digest: prepared!.digest, build_flags: ['-DGGML_NATIVE=OFF'] })
  const human = await cli('provision', '--config', cfg)
  t.equal(human.code, 0)
  t.match(human.out.join('\n'), /pool src: engine ready in [\d.]+ s\n.*\n {2}digest: sha256:[0-9a-f]{64}\n {2}build_ref: [0-9a-f]{40}/)
})

t.test('progress: a bar redrawn in place on a terminal, a line per step and tenth elsewhere', async (t) => {
  let plain = ''
  const p = progressPrinter({ write: (s) => { plain += s } }, 'pool a')
  p.update({ step: 'git-clone' })
  for (let i = 1; i <= 100; i++) p.update({ step: 'cmake-build', done: i, total: 100, unit: 'steps' })
  p.done()
  const lines = plain.trim().split('\n')
  t.equal(lines[0], 'pool a git-clone')
  t.equal(lines.length, 12, 'one line for the step start, then one per tenth')
  t.equal(lines.at(-1), 'pool a cmake-build 100% (100/100 steps)')
  let tty = ''
  let clock = 0
  const bar = progressPrinter({ write: (s) => { tty += s }, isTTY: true, columns: 80 }, 'pool a', () => clock)
  bar.update({ step: 'binary-download', done: 512, total: 1024, unit: 'bytes' })
  bar.update({ step: 'binary-download', done: 600, total: 1024, unit: 'bytes' }) // within 100 ms: not drawn
  clock = 200
  bar.update({ step: 'binary-download', done: 1024, total: 1024, unit: 'bytes' })
  bar.done()
  t.equal(tty.split('\r').length - 1, 2, 'two redraws')
  t.match(tty, /\[############\.{12}\] pool a binary-download 50% \(512 B\/1\.0 KiB\)/)
  t.ok(tty.endsWith('100% (1.0 KiB/1.0 KiB)\n'))
})
