/**
 * A llama-server source build (spec pools §2.4 steps 4–9, ORCH-3431/3433): configure and
 * compile the `llama-server` target in a build folder of its own per build key (commit,
 * flags, generator, toolchain), with ccache when present, CUDA hints when nvcc is off PATH,
 * a host-compiler retry, and — when the compute policy allows — a CPU build after a failed
 * CUDA one, narrated and recorded as `compute_mode: cpu`. A finished build leaves a stamp;
 * the same key finds it and runs no compiler (the build is reused, its digest checked).
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { availableParallelism, homedir } from 'node:os'
import { join } from 'node:path'
import type { ComputePolicy, ProvisionProgress } from '../../sdk/index.js'
import { canonicalSha256 } from '../../lib/canonical.js'
import { sha256File } from '../../lib/digest.js'
import { stableStringify, writeFileAtomic } from '../../lib/atomic.js'
import { closeLog, openLog, runTool, which } from '../../lib/provision/command.js'
import { BASE_FLAGS, ccacheFlags, cpuFlags, mapFlags, wantsCuda } from './cmake-flags.js'
import { cudaHints, findCudaRoot, findHostCompiler, HintsFile, toolIdentity, type Hint } from './toolchain.js'
import { ORC_ERR_LLAMACPP_BUILD, ORC_ERR_LLAMACPP_GPU_REQUIRED } from './errors.js'

export interface BuildInput {
  pool: string
  repo: string
  commit: string
  src: string
  cacheDir: string
  /** The pool's cmake flags as configured (before mapping). */
  flags: readonly string[]
  generator: string | null
  policy: ComputePolicy
  env: NodeJS.ProcessEnv
  jobs?: number
  signal?: AbortSignal
  progress?: (p: ProvisionProgress) => void
  narrate?: (action: string, human: string, fields?: Record<string, unknown>, level?: 'info' | 'warn') => void
}

export interface Built {
  binary: string
  /** The flags the binary was configured with (after mapping, and the CPU form after a fallback). */
  flags: string[]
  compute_mode: 'gpu' | 'cpu'
  digest: string
  log: string
}

interface Stamp { key: string, commit: string, flags: string[], compute_mode: 'gpu' | 'cpu', digest: string, log: string, built_ms: number }

const BINARY = join('bin', 'llama-server')

/** The ccache folder every build of this user shares (CCACHE_DIR wins), so a fresh build folder still hits. */
const defaultCcacheDir = (): string => join(homedir(), '.cache', 'llama-orch', 'ccache')

async function readStamp (dir: string): Promise<Stamp | null> {
  try { return JSON.parse(await readFile(join(dir, 'build.json'), 'utf8')) as Stamp } catch { return null }
}

/** cmake's own words for a failed configure: the first `CMake Error` line and the two non-blank lines after it, on one line. */
export function firstCmakeError (tail: string): string {
  const lines = tail.split('\n')
  const at = lines.findIndex((l) => l.startsWith('CMake Error'))
  return at < 0 ? '' : lines.slice(at).map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' ').slice(0, 240)
}

const NINJA_STEP = /^\[(\d+)\/(\d+)\]/
const MAKE_STEP = /^\[\s*(\d+)%\]/

export async function build (o: BuildInput): Promise<Built> {
  const mapped = mapFlags(o.flags)
  const cudaAsked = wantsCuda(mapped)
  const cuda = cudaAsked && o.policy !== 'cpu-only'
  const requested = cudaAsked && o.policy === 'cpu-only' ? cpuFlags(mapped) : mapped
  const ninja = await which('ninja', o.env)
  const generator = o.generator ?? (ninja ? 'Ninja' : 'Unix Makefiles')
  const ccache = await which('ccache', o.env)
  const tools = await toolIdentity(['cmake', 'c++', ...(cuda ? ['nvcc'] : [])], o.env)
  const key = canonicalSha256({ commit: o.commit, flags: requested, generator, tools, ccache: ccache !== null })
  const dir = join(o.cacheDir, `build-${key.slice(0, 16)}`)
  const stamp = await readStamp(dir)
  if (stamp?.key === key && (stamp.compute_mode === 'gpu' || o.policy !== 'gpu-required')) {
    const binary = join(dir, BINARY)
    const digest = existsSync(binary) ? `sha256:${(await sha256File(binary)).hex}` : null
    if (digest === stamp.digest) {
      // decision 1: running on CPU where CUDA was asked for is narrated every time, not only when it was built
      if (cuda && stamp.compute_mode === 'cpu') {
        o.narrate?.('fallback', `pool ${o.pool} runs the CPU build made when its CUDA build failed (compute_policy cpu-fallback)`,
          { compute_mode: 'cpu', build_dir: dir }, 'warn')
      }
      o.narrate?.('reuse', `pool ${o.pool} reuses llama-server ${o.commit.slice(0, 10)} (${stamp.compute_mode}); nothing to compile`,
        { build_dir: dir, compute_mode: stamp.compute_mode, engine_digest: digest })
      return { binary, flags: stamp.flags, compute_mode: stamp.compute_mode, digest, log: stamp.log }
    }
  }
  await mkdir(dir, { recursive: true })
  const logFile = join(dir, 'build.log')
  await rm(logFile, { force: true })
  const log = openLog(logFile)
  try {
    return await fresh(o, { key, dir, logFile, log, requested, cuda, generator, ccache: ccache !== null })
  } finally {
    await closeLog(log)
  }
}

interface Fresh {
  key: string
  dir: string
  logFile: string
  log: ReturnType<typeof openLog>
  requested: string[]
  cuda: boolean
  generator: string
  ccache: boolean
}

async function fresh (o: BuildInput, { key, dir, logFile, log, requested, cuda, generator, ccache }: Fresh): Promise<Built> {
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    CCACHE_DIR: o.env.CCACHE_DIR ?? defaultCcacheDir(),
    // paths relative to the cache dir: a fresh build folder of the same source hits the cache
    CCACHE_BASEDIR: o.env.CCACHE_BASEDIR ?? o.cacheDir,
    CCACHE_NOHASHDIR: '1',
  }
  const hints = new HintsFile(join(o.cacheDir, 'toolchain-hints.json'))
  const hintKey = canonicalSha256({ repo: o.repo, commit: o.commit, flags: [...requested].sort() })
  const hint = await hints.get(hintKey)
  let cmakeError = ''
  const configure = async (flags: readonly string[], extra: string[], e: NodeJS.ProcessEnv): Promise<boolean> => {
    const launcher = ccache ? ccacheFlags(wantsCuda(flags)) : []
    await rm(join(dir, 'CMakeCache.txt'), { force: true })
    await rm(join(dir, 'CMakeFiles'), { recursive: true, force: true })
    o.progress?.({ step: 'cmake-configure' })
    const r = await runTool('cmake', ['-S', o.src, '-B', dir, '-G', generator, ...BASE_FLAGS, '-U', 'LLAMA_CUBLAS', ...extra, ...flags, ...launcher],
      { env: e, log, ...(o.signal ? { signal: o.signal } : {}), onLine: (line) => o.progress?.({ step: 'cmake-configure', line }) })
    if (r.code !== 0) cmakeError = firstCmakeError(r.tail)
    return r.code === 0
  }
  const compile = async (e: NodeJS.ProcessEnv): Promise<{ ok: boolean, tail: string }> => {
    const r = await runTool('cmake', ['--build', dir, '--target', 'llama-server', '-j', String(o.jobs ?? availableParallelism())], {
      env: e,
      log,
      ...(o.signal ? { signal: o.signal } : {}),
      onLine: (line) => {
        const n = NINJA_STEP.exec(line)
        const m = n ? null : MAKE_STEP.exec(line)
        o.progress?.(n
          ? { step: 'cmake-build', line, done: Number(n[1]), total: Number(n[2]), unit: 'steps' }
          : m ? { step: 'cmake-build', line, done: Number(m[1]), total: 100, unit: 'steps' } : { step: 'cmake-build', line })
      },
    })
    return { ok: r.code === 0 && existsSync(join(dir, BINARY)), tail: r.tail }
  }

  let flags = [...requested]
  let mode: 'gpu' | 'cpu' = cuda ? 'gpu' : 'cpu'
  let gpuProblem: string | null = null
  if (cuda && hint?.verdict === 'cuda-failed' && o.policy === 'cpu-fallback') {
    gpuProblem = 'an earlier CUDA build of the same source and flags failed (toolchain-hints.json)'
  } else if (cuda) {
    let e = env
    let extra: string[] = []
    const root = hint?.cuda_root ?? (await which('nvcc', env) ? null : await findCudaRoot(env))
    if (root) {
      ({ env: e, flags: extra } = cudaHints(root, env))
      o.narrate?.('cuda-hints', `pool ${o.pool} builds with CUDA from ${root}`, { cuda_root: root })
    }
    let ok = await configure(flags, extra, e)
    let compiler = hint?.host_compiler ?? null
    if (!ok) {
      compiler = compiler ?? await findHostCompiler(e)
      if (compiler) {
        o.narrate?.('host-compiler', `pool ${o.pool} retries the CUDA configure with host compiler ${compiler.cc}`, { ...compiler })
        extra = [...extra, `-DCMAKE_C_COMPILER=${compiler.cc}`, `-DCMAKE_CXX_COMPILER=${compiler.cxx}`, `-DCMAKE_CUDA_HOST_COMPILER=${compiler.cc}`]
        ok = await configure(flags, extra, e)
      }
    }
    const compiled = ok ? await compile(e) : null
    if (compiled?.ok) {
      await hints.put(hintKey, { cuda_root: root, host_compiler: compiler, verdict: 'ok', recorded_ms: Date.now() })
    } else {
      gpuProblem = ok
        ? 'the CUDA build failed to compile'
        : `the CUDA configure failed${cmakeError ? ` (${cmakeError})` : ' (nvcc, cuBLAS and the CUDA headers are needed)'}`
      await hints.put(hintKey, { cuda_root: root, host_compiler: compiler, verdict: 'cuda-failed', recorded_ms: Date.now() } satisfies Hint)
    }
  }
  if (gpuProblem !== null) {
    if (o.policy === 'gpu-required') throw new ORC_ERR_LLAMACPP_GPU_REQUIRED(o.pool, `${gpuProblem}; see ${logFile}`, 'install the CUDA toolkit (nvcc, cuBLAS)')
    o.narrate?.('fallback', `pool ${o.pool} falls back to a CPU build: ${gpuProblem} (compute_policy cpu-fallback)`,
      { compute_mode: 'cpu', reason: gpuProblem, build_log: logFile }, 'warn')
    flags = cpuFlags(flags)
    mode = 'cpu'
  }
  if (gpuProblem !== null || !cuda) {
    if (!await configure(flags, [], env)) {
      throw new ORC_ERR_LLAMACPP_BUILD(o.pool, `cmake configure failed${cmakeError ? `: ${cmakeError}` : ''}; see ${logFile}`)
    }
    const compiled = await compile(env)
    if (!compiled.ok) {
      throw new ORC_ERR_LLAMACPP_BUILD(o.pool, `building llama-server failed: ${compiled.tail.split('\n').at(-1)?.slice(0, 200) ?? ''}; see ${logFile}`)
    }
  }
  const binary = join(dir, BINARY)
  const digest = `sha256:${(await sha256File(binary)).hex}`
  const built: Stamp = { key, commit: o.commit, flags, compute_mode: mode, digest, log: logFile, built_ms: Date.now() }
  await writeFileAtomic(join(dir, 'build.json'), stableStringify(built))
  return { binary, flags, compute_mode: mode, digest, log: logFile }
}
