/**
 * Mode `source` (spec pools §2.4): preflight of the build tools, the checkout and the build,
 * one at a time per cache dir (a second pool or process waits for the first build and then
 * reuses it).
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { withLock } from '../../lib/catalog-store/lock.js'
import { closeLog, openLog } from '../../lib/provision/command.js'
import { describeMissing, findTools, type ToolCheck } from '../../lib/provision/preflight.js'
import { hostManager, installSystemPackages } from './system-packages.js'
import { bundledRelease, checkout } from './checkout.js'
import { build } from './build.js'
import { ORC_ERR_LLAMACPP_SOURCE, ORC_ERR_LLAMACPP_TOOL_MISSING } from './errors.js'
import type { ObtainContext, Obtained } from './obtain.js'

/** Where a pool's source and builds live. */
export const sourceCacheDir = (ctx: Pick<ObtainContext, 'pool' | 'cacheRoot'>): string =>
  ctx.pool.provisioning.source?.build?.cache_dir ?? join(ctx.cacheRoot, 'llamacpp')

/** The repo and ref a pool builds: its own, else the llama.cpp release node-llama-cpp ships (offline). */
export function sourceOf (pool: ObtainContext['pool']): { repo: string, ref: string | null } {
  const s = pool.provisioning.source
  const bundled = bundledRelease()
  if (s?.repo) return { repo: s.repo, ref: s.ref ?? null }
  if (!bundled) {
    throw new ORC_ERR_LLAMACPP_SOURCE(pool.id,
      'no provisioning.source.repo is set and node-llama-cpp\'s llama.cpp bundle is not installed; set provisioning.source.repo')
  }
  return { repo: bundled, ref: s?.ref ?? null }
}

const BUILD_TOOLS = ['git', 'cmake', 'build-tool', 'compiler'] as const

/**
 * The build tools, installed with the system package manager when `allow_package_installs`
 * allows it (spec pools §2.3 ladder), else named with the packages that provide them.
 */
async function preflight (ctx: ObtainContext): Promise<void> {
  const missingNow = async (): Promise<ToolCheck[]> => (await findTools(BUILD_TOOLS, ctx.env)).filter((t) => t.found === null)
  const missing = await missingNow()
  if (missing.length === 0) return
  if (!ctx.policy.allow_package_installs) {
    throw new ORC_ERR_LLAMACPP_TOOL_MISSING(ctx.pool.id,
      `${describeMissing(missing)}; install them (or set policy.allow_package_installs: true to let llama-orch install them) and restart the pool`)
  }
  const { manager } = await hostManager()
  const packages = missing.map((m) => manager === 'pacman' ? m.spec.arch : m.spec.debian)
  ctx.narrate?.('install-tools', `pool ${ctx.pool.id} installs the build tools ${packages.join(', ')}`, { packages })
  await installSystemPackages(packages, { pool: ctx.pool.id, allow: true, env: ctx.env, ...(ctx.signal ? { signal: ctx.signal } : {}) })
  const still = await missingNow()
  if (still.length > 0) throw new ORC_ERR_LLAMACPP_TOOL_MISSING(ctx.pool.id, `${describeMissing(still)}, still, after installing ${packages.join(', ')}`)
}

export async function obtainFromSource (ctx: ObtainContext): Promise<Obtained> {
  const pool = ctx.pool
  await preflight(ctx)
  const { repo, ref } = sourceOf(pool)
  const cacheDir = sourceCacheDir(ctx)
  await mkdir(cacheDir, { recursive: true })
  return await withLock(join(cacheDir, 'build.lock'), { waitMs: 4 * 3600_000, foreignStaleMs: 4 * 3600_000, what: 'the llama.cpp build cache' }, async () => {
    ctx.progress?.({ step: 'git-clone' })
    const log = openLog(join(cacheDir, 'checkout.log'))
    let commit: string
    try {
      commit = await checkout({
        pool: pool.id,
        repo,
        ref,
        submodules: pool.provisioning.source?.submodules === true,
        src: join(cacheDir, 'src'),
        policy: ctx.policy,
        env: ctx.env,
        log,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      })
    } finally {
      await closeLog(log)
    }
    const built = await build({
      pool: pool.id,
      repo,
      commit,
      src: join(cacheDir, 'src'),
      cacheDir,
      flags: pool.provisioning.source?.build?.cmake_flags ?? [],
      generator: pool.provisioning.source?.build?.generator ?? null,
      policy: pool.provisioning.compute_policy,
      env: ctx.env,
      ...(ctx.jobs !== undefined ? { jobs: ctx.jobs } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.progress ? { progress: ctx.progress } : {}),
      ...(ctx.narrate ? { narrate: ctx.narrate } : {}),
    })
    return {
      binary: built.binary,
      // the commit is the version: a source build has no release number of its own
      version: `llama.cpp-${commit.slice(0, 12)}`,
      build_ref: commit,
      digest: built.digest,
      build_flags: built.flags,
      compute_mode: built.compute_mode,
      artifacts: [built.binary],
      build_log: built.log,
    }
  })
}
