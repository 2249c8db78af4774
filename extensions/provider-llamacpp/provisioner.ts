/**
 * The llama.cpp provider (spec pools §2.4, ORCH-3430..3434): `plan` says what `prepare` will
 * do, step by step, without doing any of it; `prepare` obtains a llama-server binary in the
 * pool's mode (source build, verified download, system package), records the build in the
 * engine catalog, and returns the command line the pool manager starts and supervises.
 */
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Plan, PlanStep, PreparedEngine, Provisioner, ProvisioningPolicy, EngineBuild } from '../../sdk/index.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import { freePort, urlHost } from '../../lib/provision/ports.js'
import { LLAMACPP_HANDLES } from './handles.js'
import { BASE_FLAGS, mapFlags, wantsCuda } from './cmake-flags.js'
import { launchArgs } from './run-flags.js'
import { obtainFromSource, sourceCacheDir, sourceOf } from './source.js'
import { obtainBinary } from './binary.js'
import { obtainPackage } from './package.js'
import { poolPolicy, type Narrate, type ObtainContext, type Obtained } from './obtain.js'
import { ORC_ERR_LLAMACPP_NO_MODEL } from './errors.js'

export interface LlamacppProvisionerOptions {
  policy: ProvisioningPolicy
  /** Engine cache root; default `~/.cache/llama-orch`. */
  cacheRoot?: string
  /** Parallel compile jobs; default: every core. */
  jobs?: number
  env?: NodeJS.ProcessEnv
  narrate?: Narrate
  registerEngine?: (build: EngineBuild) => Promise<string>
}

type LlamacppMode = 'source' | 'binary' | 'package'

/** A URL as a plan may print it: a signed query string (a token) stays out. */
const withoutQuery = (url: string): string => { try { const u = new URL(url); return `${u.origin}${u.pathname}` } catch { return '(not a URL)' } }
const modeOf = (pool: PoolConfig): LlamacppMode => (pool.provisioning.mode ?? 'source') as LlamacppMode

const OBTAIN: Record<LlamacppMode, (ctx: ObtainContext) => Promise<Obtained>> = {
  source: obtainFromSource,
  binary: obtainBinary,
  package: obtainPackage,
}

const CUDA_VERDICT: Record<PoolConfig['provisioning']['compute_policy'], string> = {
  'gpu-required': 'a failed CUDA build fails the pool',
  'cpu-fallback': 'a failed CUDA build falls back to a CPU build',
  'cpu-only': 'CUDA flags dropped, CPU build',
}

function obtainSteps (pool: PoolConfig, cacheRoot: string): PlanStep[] {
  const p = pool.provisioning
  const mode = modeOf(pool)
  if (mode === 'binary') {
    return [
      { kind: 'policy-gate', detail: 'allow_binary_downloads and allow_outbound_network must be true' },
      { kind: 'binary-download', detail: `url=${p.binary?.url ? withoutQuery(p.binary.url) : '(unset)'} checksum=${p.binary?.checksum ?? '(unset)'}` },
      { kind: 'binary-unpack', detail: `install_dir=${p.binary?.install_dir ?? join(cacheRoot, 'llamacpp', 'bin')}` },
    ]
  }
  if (mode === 'package') {
    return [
      { kind: 'policy-gate', detail: 'allow_package_installs must be true to install' },
      {
        kind: 'package-install',
        detail: `name=${p.package?.name ?? '(unset)'}${p.package?.version ? ` version=${p.package.version}` : ''} ` +
          '(pacman on Arch-like hosts, apt-get on Debian)',
      },
    ]
  }
  const { repo, ref } = sourceOf(pool)
  const flags = mapFlags(p.source?.build?.cmake_flags ?? [])
  const cuda = wantsCuda(flags)
  return [
    {
      kind: 'preflight-tools',
      detail: `git, cmake, ninja or make, a C++ compiler${cuda ? ', nvcc (or a CUDA root under /opt or /usr/local)' : ''}; ccache when present`,
    },
    { kind: 'git-clone', detail: `repo=${repo} ref=${ref ?? 'HEAD'}${p.source?.submodules ? ' submodules' : ''}` },
    {
      kind: 'cmake-configure',
      detail: `flags=${[...BASE_FLAGS, ...flags].join(' ')} generator=${p.source?.build?.generator ?? 'Ninja (else Unix Makefiles)'} ` +
        `cache_dir=${sourceCacheDir({ pool, cacheRoot })}`,
    },
    { kind: 'cmake-build', detail: 'build llama-server (reused when commit, flags and toolchain are unchanged)' },
    ...(cuda ? [{ kind: 'compute-policy', detail: `${p.compute_policy}: ${CUDA_VERDICT[p.compute_policy]}` }] : []),
  ]
}

export function createLlamacppProvisioner (o: LlamacppProvisionerOptions): Provisioner {
  const cacheRoot = o.cacheRoot ?? join(homedir(), '.cache', 'llama-orch')
  return {
    name: 'llamacpp',
    handles: LLAMACPP_HANDLES,
    plan (pool): Plan {
      const p = pool.provisioning
      return {
        pool_id: pool.id,
        steps: [
          ...obtainSteps(pool, cacheRoot),
          { kind: 'model-fetch', detail: `ref=${p.model?.ref ?? pool.model} via the model provisioner` },
          { kind: 'run', detail: `llama-server host=${p.host} ports=${p.ports?.join(',') ?? '(free port)'} flags=${(p.flags ?? []).join(' ') || '(none)'}` },
        ],
      }
    },
    async prepare (pool, opts = {}): Promise<PreparedEngine> {
      if (!opts.model) throw new ORC_ERR_LLAMACPP_NO_MODEL(pool.id)
      const mode = modeOf(pool)
      const got = await OBTAIN[mode]({
        pool,
        policy: poolPolicy(o.policy, pool),
        env: o.env ?? process.env,
        cacheRoot,
        ...(o.jobs !== undefined ? { jobs: o.jobs } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.progress ? { progress: opts.progress } : {}),
        ...(o.narrate ? { narrate: o.narrate } : {}),
      })
      const host = pool.provisioning.host
      const port = pool.provisioning.ports?.[0] ?? await freePort(host)
      const env: Record<string, string> = { ...(pool.provisioning.env ?? {}) }
      if (got.compute_mode === 'gpu' && pool.devices.length > 0) env.CUDA_VISIBLE_DEVICES = pool.devices.join(',')
      const args = launchArgs({
        binary: got.binary,
        model: opts.model.local_path,
        alias: pool.model,
        host,
        port,
        flags: pool.provisioning.flags ?? [],
        compute: got.compute_mode,
        ctx: pool.ctx ?? null,
        tensorSplit: pool.tensor_split ?? null,
        slots: pool.slots_total ?? 1,
        deterministic: (pool.slots_total ?? 1) === 1,
      })
      const catalogId = await o.registerEngine?.({
        engine: 'llamacpp',
        version: got.version,
        build_ref: got.build_ref,
        digest: got.digest,
        build_flags: got.build_flags,
        artifacts: got.artifacts,
        compute_mode: got.compute_mode,
        ...(got.build_log ? { build_log: got.build_log } : {}),
      })
      return {
        engine: 'llamacpp',
        version: got.version,
        build_ref: got.build_ref,
        digest: got.digest,
        build_flags: got.build_flags,
        mode,
        compute_mode: got.compute_mode,
        binary_path: got.binary,
        engine_catalog_id: catalogId ?? null,
        bin: got.binary,
        args,
        env,
        ports: [port],
        workdir: dirname(got.binary),
        health: { url: `http://${urlHost(host)}:${port}/health`, kind: 'llamacpp' },
      }
    },
  }
}
