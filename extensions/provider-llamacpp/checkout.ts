/**
 * The llama.cpp source in the engine cache (spec pools §2.4 step 3): one clone per cache dir,
 * the wanted ref checked out detached, its commit the build's `build_ref`. A ref already in
 * the clone is not fetched again, so a rebuild of a known commit needs no network; a remote
 * repo passes the outbound-network gate first. The default repo is the llama.cpp release
 * node-llama-cpp ships as a git bundle: a build that works offline.
 */
import { existsSync } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { WriteStream } from 'node:fs'
import type { ProvisioningPolicy } from '../../sdk/index.js'
import { outboundRefusal } from '../../lib/download/policy.js'
import { runTool } from '../../lib/provision/command.js'
import { ORC_ERR_LLAMACPP_POLICY, ORC_ERR_LLAMACPP_SOURCE } from './errors.js'

/** The git bundle of the llama.cpp release node-llama-cpp is built from, or null when it is not installed. */
export function bundledRelease (): string | null {
  try {
    const bundle = join(dirname(dirname(fileURLToPath(import.meta.resolve('node-llama-cpp')))), 'llama', 'gitRelease.bundle')
    return existsSync(bundle) ? bundle : null
  } catch {
    return null
  }
}

/** The host a repo is fetched from, or null for a local path or bundle (no download). */
export function repoHost (repo: string): string | null {
  const scp = /^[\w.-]+@([\w.-]+):/.exec(repo)
  if (scp) return scp[1]!
  try {
    const u = new URL(repo)
    return u.protocol === 'file:' ? null : u.hostname
  } catch {
    return null
  }
}

export interface CheckoutInput {
  pool: string
  repo: string
  /** A commit, tag or branch; null: the repo's HEAD. */
  ref: string | null
  submodules: boolean
  src: string
  policy: ProvisioningPolicy
  env: NodeJS.ProcessEnv
  log: WriteStream
  signal?: AbortSignal
}

async function git (args: string[], o: CheckoutInput, cwd?: string): Promise<{ ok: boolean, out: string }> {
  let out = ''
  const r = await runTool('git', args, {
    cwd: cwd ?? o.src,
    env: { ...o.env, GIT_TERMINAL_PROMPT: '0' },
    log: o.log,
    ...(o.signal ? { signal: o.signal } : {}),
    onLine: (l) => { out += `${l}\n` },
  })
  return { ok: r.code === 0, out: out.trim() }
}

const fail = (o: CheckoutInput, what: string, out: string): never => {
  throw new ORC_ERR_LLAMACPP_SOURCE(o.pool, `${what}: ${out.split('\n').slice(-2).join(' | ').slice(0, 300) || 'no output'}`)
}

/** Clones if needed, checks out the ref, and returns the commit it resolved to. */
export async function checkout (o: CheckoutInput): Promise<string> {
  const host = repoHost(o.repo)
  const gate = (): void => {
    const refused = host === null ? null : outboundRefusal(o.policy, host, `the llama.cpp source ${o.repo}`)
    if (refused !== null) throw new ORC_ERR_LLAMACPP_POLICY(o.pool, refused)
  }
  if (!existsSync(join(o.src, '.git'))) {
    gate()
    const tmp = `${o.src}.tmp-${process.pid}`
    await rm(tmp, { recursive: true, force: true })
    const c = await git(['clone', '--quiet', '--no-checkout', o.repo, tmp], o, dirname(o.src))
    if (!c.ok) { await rm(tmp, { recursive: true, force: true }); fail(o, `git clone ${o.repo} failed`, c.out) }
    await rename(tmp, o.src)
  }
  const want = o.ref ?? 'HEAD'
  let resolved = await git(['rev-parse', '--verify', '--quiet', `${want}^{commit}`], o)
  // a branch name must follow its remote, and an unknown ref may be new upstream: fetch then
  const isCommit = /^[0-9a-f]{7,40}$/i.test(want) && resolved.ok
  if (!isCommit) {
    gate()
    const f = await git(['fetch', '--quiet', '--tags', '--force', o.repo, `+${o.ref ?? 'HEAD'}:refs/llama-orch/wanted`], o)
    if (f.ok) resolved = await git(['rev-parse', '--verify', '--quiet', 'refs/llama-orch/wanted^{commit}'], o)
    else if (!resolved.ok) fail(o, `git fetch ${o.ref ?? 'HEAD'} from ${o.repo} failed`, f.out)
  }
  if (!resolved.ok) fail(o, `ref ${want} is not in ${o.repo}`, resolved.out)
  const commit = resolved.out.split('\n').at(-1)!
  const co = await git(['checkout', '--quiet', '--force', '--detach', commit], o)
  if (!co.ok) fail(o, `git checkout ${commit} failed`, co.out)
  if (o.submodules) {
    gate()
    const sm = await git(['submodule', 'update', '--init', '--recursive'], o)
    if (!sm.ok) fail(o, 'git submodule update failed', sm.out)
  }
  return commit
}
