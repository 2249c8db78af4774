/**
 * The llama.cpp source build for real (spec pools §2.4, ORCH-3431/3433): the bundled release
 * cloned into a fresh cache, configured and compiled with ccache (the shared ccache folder
 * keeps this to seconds once any build of the same source ran), reused without a compiler
 * run, and a CUDA build that really fails here falling back to CPU or failing fast.
 */
import t from 'tap'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EngineBuild, ProvisionProgress } from '../../../sdk/index.js'
import { manifestOf } from '../../../test/helpers/build.js'
import { findTools } from '../../../lib/provision/preflight.js'
import { which } from '../../../lib/provision/command.js'
import { createLlamacppProvisioner } from '../provisioner.js'
import { bundledRelease } from '../checkout.js'
import { hostManager } from '../system-packages.js'

t.setTimeout(900_000)

const tools = await findTools(['git', 'cmake', 'build-tool', 'compiler'])
const missing = tools.filter((x) => x.found === null).map((x) => x.tool)
const bundle = bundledRelease()
const nvcc = await which('nvcc')
const skip = missing.length > 0 || bundle === null ? `needs ${missing.join(', ') || 'the node-llama-cpp llama.cpp bundle'} to build llama-server` : false
if (skip) t.test('llama.cpp source builds', { skip }, async () => {})
else {
  const cache = mkdtempSync(join(tmpdir(), 'orc-llamacpp-src-'))
  t.teardown(() => rmSync(cache, { recursive: true, force: true }))
  // a cmake that records each call, first on PATH, so a test can tell whether anything was configured or built
  const wrap = mkdtempSync(join(tmpdir(), 'orc-cmake-wrap-'))
  t.teardown(() => rmSync(wrap, { recursive: true, force: true }))
  const calls = join(wrap, 'calls.log')
  writeFileSync(join(wrap, 'cmake'), `#!/bin/sh\necho "$*" >> "${calls}"\nexec "${(await which('cmake'))!}" "$@"\n`)
  chmodSync(join(wrap, 'cmake'), 0o755)
  const env = { ...process.env, PATH: `${wrap}:${process.env.PATH ?? ''}` }
  const cmakeCalls = (): string[] => existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []
  const recorded: EngineBuild[] = []
  const narrated: Array<{ action: string, human: string, level: string | undefined }> = []
  const prov = createLlamacppProvisioner({
    policy: { allow_outbound_network: false, outbound_allowlist: [], allow_package_installs: false, allow_binary_downloads: false },
    cacheRoot: cache,
    env,
    narrate: (action, human, _f, level) => { narrated.push({ action, human, level }) },
    registerEngine: async (b) => { recorded.push(b); return `llamacpp:${b.version}@${b.digest}` },
  })
  const poolOf = (flags: string[], policy: string) => manifestOf({
    pools: [{
      id: 'src',
      engine: 'llamacpp',
      model: 'tiny',
      devices: policy === 'gpu-required' ? [0] : [],
      provisioning: { mode: 'source', compute_policy: policy, source: { build: { cmake_flags: ['-DGGML_NATIVE=OFF', ...flags] } } },
    }],
  }).pools[0]!
  const model = { id: 'file:/m/tiny.gguf', local_path: '/m/tiny.gguf' }

  t.test('a fresh cache: clone, configure, build; the EngineEntry records commit, flags and digest; a second prepare compiles nothing', async (t) => {
    const steps: ProvisionProgress[] = []
    const p = await prov.prepare(poolOf([], 'cpu-fallback'), { model, progress: (s) => steps.push(s) })
    t.match(p, { engine: 'llamacpp', mode: 'source', compute_mode: 'cpu', build_ref: /^[0-9a-f]{40}$/, digest: /^sha256:[0-9a-f]{64}$/ })
    t.equal(p.version, `llama.cpp-${p.build_ref!.slice(0, 12)}`)
    t.equal(p.bin, p.binary_path)
    t.ok(statSync(p.bin).mode & 0o100, 'the built llama-server is executable')
    t.same(p.build_flags, ['-DGGML_NATIVE=OFF'])
    t.match(p.args, ['--model', '/m/tiny.gguf', '--host', '127.0.0.1', '--port', /^\d+$/, '--alias', 'tiny', '--n-gpu-layers', '0', '--metrics', '--jinja'])
    t.equal(p.engine_catalog_id, `llamacpp:${p.version}@${p.digest}`)
    t.match(recorded.at(-1), {
      engine: 'llamacpp', build_ref: p.build_ref, digest: p.digest, build_flags: ['-DGGML_NATIVE=OFF'], compute_mode: 'cpu', artifacts: [p.bin],
    })
    const log = recorded.at(-1)!.build_log!
    t.match(readFileSync(log, 'utf8'), /Linking CXX executable bin\/llama-server/, 'the build log is kept with the entry')
    const counted = steps.some((s) => s.step === 'cmake-build' && s.unit === 'steps' && s.done === s.total && s.total! > 10)
    t.ok(counted, 'build progress from ninja counts up to its total')
    const launcher = cmakeCalls().some((c) => c.includes('-DCMAKE_C_COMPILER_LAUNCHER=ccache'))
    t.ok(launcher || (await which('ccache')) === null, 'ccache is the compiler launcher when installed')

    writeFileSync(calls, '')
    const before = statSync(join(p.bin, '..', '..', 'build.json')).mtimeMs
    const again = await prov.prepare(poolOf([], 'cpu-fallback'), { model })
    t.equal(again.digest, p.digest)
    t.equal(again.bin, p.bin)
    t.same(cmakeCalls().filter((c) => !c.startsWith('--version')), [], 'only `cmake --version` ran: nothing configured or built')
    t.equal(statSync(join(p.bin, '..', '..', 'build.json')).mtimeMs, before)
    t.ok(narrated.some((n) => n.action === 'reuse'), 'the reuse is narrated')
  })

  t.test('-DGGML_CUDA=ON where the CUDA build fails: gpu-required fails fast with guidance, cpu-fallback builds for CPU (narrated), ORCH-3433', async (t) => {
    narrated.length = 0
    const gpu = await prov.prepare(poolOf(['-DGGML_CUDA=ON'], 'gpu-required'), { model }).catch((e: unknown) => e as Error)
    if (!(gpu instanceof Error)) {
      // a machine with a whole CUDA toolchain: nothing falls back
      t.equal(gpu.compute_mode, 'gpu', `a CUDA build succeeded here (nvcc ${nvcc}): no fallback to test`)
      return
    }
    t.match(gpu, {
      code: 'ORC_ERR_LLAMACPP_GPU_REQUIRED',
      message: /compute_policy is gpu-required, but the CUDA configure failed \(CMake Error at .*\); see .*build\.log; install the CUDA toolkit \(nvcc, cuBLAS\), or set compute_policy to cpu-fallback or cpu-only/,
    })
    writeFileSync(calls, '')
    const p = await prov.prepare(poolOf(['-DGGML_CUDA=ON'], 'cpu-fallback'), { model })
    t.equal(p.compute_mode, 'cpu')
    t.same(p.build_flags, ['-DGGML_NATIVE=OFF', '-DGGML_CUDA=OFF'], 'the CPU form of the flags is what was built')
    t.equal(p.args[p.args.indexOf('--n-gpu-layers') + 1], '0')
    t.match(narrated.find((n) => n.action === 'fallback'), { level: 'warn', human: /falls back to a CPU build/ })
    t.notOk(cmakeCalls().some((c) => c.includes('GGML_CUDA=ON')), 'the failed CUDA verdict was remembered: no second CUDA configure')
    const hints = JSON.parse(readFileSync(join(cache, 'llamacpp', 'toolchain-hints.json'), 'utf8')) as Record<string, { verdict: string }>
    t.same(Object.values(hints).map((h) => h.verdict), ['cuda-failed'])
    writeFileSync(calls, '')
    const cpuOnly = await prov.prepare(poolOf(['-DGGML_CUDA=ON'], 'cpu-only'), { model })
    t.equal(cpuOnly.compute_mode, 'cpu')
    t.notOk(cmakeCalls().some((c) => c.includes('GGML_CUDA=ON')), 'cpu-only never tries CUDA')
  })

  t.test('a remote repo passes the outbound gate before git runs; a ref the repo lacks is named', async (t) => {
    const remote = manifestOf({ pools: [{ id: 'r', engine: 'llamacpp', model: 'tiny', devices: [], provisioning: { mode: 'source', compute_policy: 'cpu-only', source: { repo: 'https://github.com/ggml-org/llama.cpp.git', ref: 'b6550', build: { cache_dir: join(cache, 'remote') } } } }] }).pools[0]!
    await t.rejects(prov.prepare(remote, { model }), { code: 'ORC_ERR_LLAMACPP_POLICY', message: /github\.com, and policy\.allow_outbound_network is false/ })
    t.notOk(existsSync(join(cache, 'remote', 'src')), 'nothing was cloned')
    const wrongRef = manifestOf({
      pools: [{
        id: 'w',
        engine: 'llamacpp',
        model: 'tiny',
        devices: [],
        provisioning: { mode: 'source', compute_policy: 'cpu-only', source: { repo: bundle, ref: '0'.repeat(40) } },
      }],
    }).pools[0]!
    await t.rejects(prov.prepare(wrongRef, { model }), { code: 'ORC_ERR_LLAMACPP_SOURCE', message: /git fetch 0{40} from .*gitRelease\.bundle failed/ })
  })
}

const bareSourcePool = () =>
  manifestOf({ pools: [{ id: 'm', engine: 'llamacpp', model: 'tiny', devices: [], provisioning: { mode: 'source', compute_policy: 'cpu-only' } }] }).pools[0]!

t.test('preflight names every missing build tool and how to install it (spec pools §2.3)', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'orc-empty-path-'))
  t.teardown(() => rmSync(empty, { recursive: true, force: true }))
  const prov = createLlamacppProvisioner({
    policy: { allow_outbound_network: false, outbound_allowlist: [], allow_package_installs: false, allow_binary_downloads: false },
    cacheRoot: empty,
    env: { PATH: empty },
  })
  const pool = bareSourcePool()
  await t.rejects(prov.prepare(pool, { model: { id: 'x', local_path: '/m/x.gguf' } }), {
    code: 'ORC_ERR_LLAMACPP_TOOL_MISSING',
    message: /pool m: missing tools: git \(to fetch the llama\.cpp source; Debian: apt-get install git, Arch: pacman -S git\); cmake .*; ninja or make .*; c\+\+ or g\+\+ or clang\+\+ .*or set policy\.allow_package_installs: true/,
  })
})

t.test('with allow_package_installs the missing build tools are installed by the system package manager (spec pools §2.3 ladder)', async (t) => {
  const { manager } = await hostManager()
  if (manager === null) return t.pass('this host has no package manager llama-orch drives')
  const fakes = mkdtempSync(join(tmpdir(), 'orc-fake-pm-'))
  t.teardown(() => rmSync(fakes, { recursive: true, force: true }))
  const log = join(fakes, 'argv.log')
  // installs that "succeed" but provide nothing: the provider must say the tools are still missing
  for (const name of ['apt-get', 'dpkg-query', 'pacman', 'sudo']) {
    writeFileSync(join(fakes, name), `#!/bin/sh\necho "${name} $*" >> "${log}"\ncase "$1" in install|-S) exit 0 ;; esac\nexit 1\n`)
    chmodSync(join(fakes, name), 0o755)
  }
  const prov = createLlamacppProvisioner({
    policy: { allow_outbound_network: false, outbound_allowlist: [], allow_package_installs: true, allow_binary_downloads: false },
    cacheRoot: fakes,
    env: { PATH: fakes },
  })
  const pool = bareSourcePool()
  await t.rejects(prov.prepare(pool, { model: { id: 'x', local_path: '/m/x.gguf' } }), {
    code: 'ORC_ERR_LLAMACPP_PACKAGE',
    message: /(apt-get|pacman) .*git cmake (ninja-build|ninja) (g\+\+|gcc) succeeded, but git is still not installed/,
  })
  const argv = readFileSync(log, 'utf8')
  t.match(argv, manager === 'apt-get' ? /apt-get install -y --no-install-recommends git cmake ninja-build g\+\+/ : /pacman -S --needed --noconfirm git cmake ninja gcc/)
})
