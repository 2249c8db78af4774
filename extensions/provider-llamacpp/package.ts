/**
 * Mode `package` (spec pools §2.2/§2.3, ORCH-3434): llama-server from the host's package
 * manager. The package is installed only when missing (or at another version than pinned)
 * and only when the policy allows; the engine version is the package's exact installed
 * version, and the binary is the one the package owns (PATH only when it owns none, e.g. a
 * meta package).
 */
import { constants } from 'node:fs'
import { access, mkdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { withLock } from '../../lib/catalog-store/lock.js'
import { closeLog, openLog, which } from '../../lib/provision/command.js'
import { binaryDigest, computeFor, probeServer, supportedCompute } from './binary-facts.js'
import { installSystemPackages, packageFiles } from './system-packages.js'
import { ORC_ERR_LLAMACPP_PACKAGE } from './errors.js'
import type { ObtainContext, Obtained } from './obtain.js'

export { installSystemPackages, type InstallOptions, type Installed, type PackageSpec } from './system-packages.js'

/** Where the host is read from and who runs the install; the defaults are the real host (tests inject fakes). */
export interface PackageHost { osRelease?: string, isRoot?: boolean }

const executable = async (f: string): Promise<boolean> => await access(f, constants.X_OK).then(() => true, () => false)

export async function obtainPackage (ctx: ObtainContext, host: PackageHost = {}): Promise<Obtained> {
  const pool = ctx.pool.id
  const p = ctx.pool.provisioning.package
  if (!p?.name) throw new ORC_ERR_LLAMACPP_PACKAGE(pool, 'mode package needs provisioning.package.name: the system package that provides llama-server')
  const name = p.name
  const dir = join(ctx.cacheRoot, 'llamacpp')
  await mkdir(dir, { recursive: true })
  // the package manager takes one transaction at a time: pools preparing together queue here, not on its lock
  const installed = await withLock(join(dir, 'package.lock'), { waitMs: 3600_000, foreignStaleMs: 3600_000, what: 'system package installs' }, async () => {
    ctx.progress?.({ step: 'package-install' })
    const log = openLog(join(dir, 'package.log'))
    try {
      return await installSystemPackages([{ name, version: p.version ?? null, repo: p.repo ?? null }], {
        pool,
        allow: ctx.policy.allow_package_installs,
        env: ctx.env,
        log,
        onLine: (line) => ctx.progress?.({ step: 'package-install', line }),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(host.osRelease !== undefined ? { osRelease: host.osRelease } : {}),
        ...(host.isRoot !== undefined ? { isRoot: host.isRoot } : {}),
      })
    } finally {
      await closeLog(log)
    }
  })
  const version = installed.versions[name]!
  ctx.narrate?.(installed.installed.length > 0 ? 'package-install' : 'package-present',
    `pool ${pool} ${installed.installed.length > 0 ? 'installed' : 'uses the installed'} ${name} ${version} (${installed.manager})`, { package: name, version })
  const files = await packageFiles(installed.manager, name, ctx.env)
  let binary: string | null = null
  for (const f of files) if (binary === null && basename(f) === 'llama-server' && await executable(f)) binary = f
  binary ??= await which('llama-server', ctx.env)
  if (binary === null) {
    throw new ORC_ERR_LLAMACPP_PACKAGE(pool, `package ${name} ${version} provides no llama-server, and none is on PATH; ` +
      'set provisioning.package.name to a package that ships llama-server, or use mode source or binary')
  }
  const probe = await probeServer(binary, { ...ctx.env, ...ctx.pool.provisioning.env }, ctx.signal)
  if (!probe.ok) throw new ORC_ERR_LLAMACPP_PACKAGE(pool, `${binary} (package ${name} ${version}) does not run: ${probe.why}`)
  const compute = computeFor(ctx.pool, await supportedCompute(binary, files),
    `package ${name} ${version} has no CUDA backend (no libggml-cuda.so); install a CUDA build of llama.cpp as provisioning.package.name`)
  return {
    binary,
    version: `${name}-${version}`,
    build_ref: null,
    digest: await binaryDigest(binary),
    build_flags: null,
    compute_mode: compute,
    artifacts: [binary],
  }
}
