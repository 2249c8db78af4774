import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { Dispatcher } from 'undici'
import { fsyncDir } from '../../lib/atomic.js'
import { digestPath } from '../../lib/digest.js'
import { acquireLock } from '../../lib/catalog-store/lock.js'
import { localPathFor, parseDigest, parseRef, refId, verifyDigest, type ModelRef, type Verification } from '../../lib/catalog-store/model-ref.js'
import { RefError } from '../../lib/catalog-store/errors.js'
import type { FetchConfig, VerificationCounter } from '../catalog/index.js'
import type { CatalogStore } from '../../lib/catalog-store/store.js'
import type { ModelEntry, ResolvedModel } from '../../lib/catalog-store/entries.js'
import type { Narrator } from '../../sdk/narration.js'
import { ModelError } from './errors.js'
import { hostOf, stage, type Staged } from './fetchers.js'
import { hfEndpoint } from './hf.js'
import { assertOutbound, type OutboundPolicy } from './policy.js'
import { formatBytes, quarterReporter, type ProgressListener } from './progress.js'
import { systemRunner, type CommandRunner } from './tools.js'

export interface EnsureOptions {
  signal?: AbortSignal
  /** Engine label of `catalog_verifications_total` (the pool's engine). */
  engine?: string
  onProgress?: ProgressListener
}

/** `app.models`: the model provisioner (spec §3, ORCH-3700..3705). */
export interface ModelProvisioner {
  /**
   * Makes the model of `ref` present locally and Active in the catalog, verified against
   * `expectedDigest` when given; returns at once when the catalog already has it (§3.3).
   */
  ensurePresent (ref: string | ModelRef, expectedDigest?: string | null, o?: EnsureOptions): Promise<ResolvedModel>
  parse (ref: string): ModelRef
  /** The catalog id a ref resolves to. */
  idOf (ref: string | ModelRef): string
}

export interface ProvisionerDeps {
  store: CatalogStore
  policy: OutboundPolicy
  fetch: FetchConfig
  narrate?: Narrator['narrate']
  counter?: VerificationCounter
  runner?: CommandRunner
  env?: NodeJS.ProcessEnv
  dispatcher?: Dispatcher
  now?: () => number
}

const DAY_MS = 86_400_000
const TRUST = { pass: 'verified', warn: 'warned', fail: 'unverified' } as const

export function createModelProvisioner (deps: ProvisionerDeps): ModelProvisioner {
  const { store, policy } = deps
  const root = store.root
  const env = deps.env ?? process.env
  const runner = deps.runner ?? systemRunner
  const now = deps.now ?? Date.now
  const narrate = deps.narrate ?? (() => {})
  const endpoint = hfEndpoint(deps.fetch.hf_endpoint, env)
  const inflight = new Map<string, Promise<ResolvedModel>>()
  const slot = semaphore(deps.fetch.concurrency)

  const parse = (ref: string): ModelRef => parseRef(ref, root)
  const idOf = (ref: string | ModelRef): string => refId(typeof ref === 'string' ? parse(ref) : ref)

  const count = (v: Verification, engine?: string): void => deps.counter?.inc({ result: v.result, reason: v.reason, engine: engine ?? 'none' })

  /** The catalog's entry when its artifact is on disk and matches the expectation (no fetch, scenario 44). */
  function present (id: string, expected: string | null): ResolvedModel | null {
    const e = store.get(id)
    if (e === undefined || e.local_path === null || !existsSync(e.local_path)) return null
    if (expected !== null && verifyDigest(e.digest, expected).result !== 'pass') return null
    return { id, local_path: e.local_path, digest: e.digest, lifecycle: e.lifecycle }
  }

  async function register (
    id: string,
    path: string,
    actual: { digest: string, size_bytes: number },
    v: Verification,
    extra: Partial<ModelEntry>
  ): Promise<ResolvedModel> {
    const existing = store.get(id)
    const st = await stat(path)
    const entry = await store.put({
      ...existing,
      id,
      local_path: path,
      lifecycle: existing?.lifecycle ?? 'Active',
      digest: actual.digest,
      last_verified_ms: v.result === 'pass' ? now() : (existing?.last_verified_ms ?? null),
      verification: v,
      trust_state: TRUST[v.result],
      size_bytes: actual.size_bytes,
      mtime_ms: st.mtimeMs,
      created_ms: existing?.created_ms ?? now(),
      updated_ms: now(),
      ...extra,
    })
    narrate({ actor: 'model-provisioner', action: 'register', target: id, digest: actual.digest, size_bytes: actual.size_bytes, state: entry.lifecycle },
      `registers ${id} ${entry.lifecycle} (${formatBytes(actual.size_bytes)}, ${actual.digest.slice(0, 19)}…)`)
    return { id, local_path: path, digest: actual.digest, lifecycle: entry.lifecycle }
  }

  function check (id: string, actual: string, expected: string | null, engine?: string): Verification {
    const v = verifyDigest(actual, expected)
    count(v, engine)
    if (v.result === 'fail') {
      narrate({ actor: 'model-provisioner', action: 'verify', target: id, result: 'fail', expected, actual }, `refuses ${id}: digest mismatch`, 'warn')
      throw new ModelError('DigestMismatch',
        `digest mismatch for ${id}: expected ${expected}, got ${actual}; nothing was kept or registered`, { expected, actual })
    }
    if (v.result === 'warn') {
      narrate({ actor: 'model-provisioner', action: 'verify', target: id, result: 'warn' }, `stages ${id} unverified: no expected digest configured`, 'warn')
    }
    return v
  }

  /** file: and relative refs are used in place (never copied, never deleted); hashed once per change. */
  async function ensureFile (ref: Extract<ModelRef, { scheme: 'file' }>, id: string, expected: string | null, o: EnsureOptions): Promise<ResolvedModel> {
    const st = await stat(ref.path).catch(() => null)
    if (st === null) throw new ModelError('NotFound', `${id}: ${ref.path} does not exist; check the path or stage the model there first`, { path: ref.path })
    const e = store.get(id)
    if (e?.digest && e.local_path === ref.path && e.mtime_ms === st.mtimeMs && (expected === null || verifyDigest(e.digest, expected).result === 'pass')) {
      return { id, local_path: ref.path, digest: e.digest, lifecycle: e.lifecycle }
    }
    const actual = await digestPath(ref.path)
    const v = check(id, actual.digest, expected, o.engine)
    return register(id, ref.path, actual, v, { owned: false, source_url: `file://${ref.path}` })
  }

  async function ensureRemote (ref: ModelRef, id: string, expected: string | null, o: EnsureOptions): Promise<ResolvedModel> {
    const hit = present(id, expected)
    if (hit) return hit
    // the policy gate comes before any lock, tool preflight or connection (scenario 40)
    assertOutbound(policy, hostOf(ref, endpoint, env), id)
    const key = createHash('sha256').update(id).digest('hex').slice(0, 32)
    const signal = o.signal ?? new AbortController().signal
    const lock = await acquireLock(join(root, '.staging', `${key}.lock`), { waitMs: DAY_MS, signal, what: `the download of ${id}` })
    try {
      const again = present(id, expected) // another process may have finished it while we waited
      if (again) return again
      const final = localPathFor(ref, root)
      const stageDir = join(root, '.staging', key)
      if (existsSync(final)) {
        // renamed into place but not registered (a crash in between): it was verified before the rename
        const actual = await digestPath(final)
        const v = verifyDigest(actual.digest, expected)
        if (v.result !== 'fail') { count(v, o.engine); return await register(id, final, actual, v, { owned: true }) }
      }
      await mkdir(stageDir, { recursive: true })
      narrate({ actor: 'model-provisioner', action: 'fetch', target: id, host: hostOf(ref, endpoint, env) }, `stages ${id} from ${hostOf(ref, endpoint, env)}`)
      const quarters = quarterReporter((pct, bytes, total) => narrate({ actor: 'model-provisioner', action: 'progress', target: id, bytes, total },
        `downloads ${id}: ${pct}% of ${formatBytes(total)}`))
      let staged: Staged
      try {
        staged = await stage({
          ref,
          what: id,
          stage: stageDir,
          fileName: basename(final),
          policy,
          hfEndpoint: endpoint,
          hfCli: deps.fetch.hf_cli,
          idleTimeoutMs: deps.fetch.idle_timeout_ms,
          env,
          runner,
          signal,
          slot,
          ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
          onBytes: (file, bytes, total) => { const p = { id, file, bytes, total }; quarters(p); o.onProgress?.(p) },
        })
      } catch (err) {
        narrate({ actor: 'model-provisioner', action: 'error', target: id, error: (err as Error).message }, `fails to stage ${id}`, 'warn')
        throw err
      }
      let v: Verification
      try { v = check(id, staged.digest, expected, o.engine) } catch (err) {
        await rm(stageDir, { recursive: true, force: true })
        throw err
      }
      await mkdir(dirname(final), { recursive: true })
      if (existsSync(final)) await rm(final, { recursive: true, force: true })
      await rename(staged.path, final)
      await fsyncDir(dirname(final))
      const resolved = await register(id, final, staged, v, { owned: true, source_url: staged.source_url })
      await rm(stageDir, { recursive: true, force: true })
      return resolved
    } finally {
      await lock.release()
    }
  }

  return {
    parse,
    idOf,
    async ensurePresent (refIn, expectedDigest, o = {}) {
      const ref = typeof refIn === 'string' ? parse(refIn) : refIn
      const id = refId(ref)
      let expected: string | null = null
      if (expectedDigest !== undefined && expectedDigest !== null) {
        const d = parseDigest(expectedDigest)
        if (d === null) throw new RefError('InvalidRef', `expected digest of ${id} must look like sha256:<64 hex>, got ${JSON.stringify(expectedDigest)}`)
        expected = `${d.algo}:${d.value}`
      }
      // single flight per id: concurrent callers share one fetch (scenario 43)
      let p = inflight.get(id)
      if (p === undefined) {
        p = (ref.scheme === 'file' ? ensureFile(ref, id, expected, o) : ensureRemote(ref, id, expected, o)).finally(() => inflight.delete(id))
        inflight.set(id, p)
      }
      const resolved = await p
      if (expected !== null && verifyDigest(resolved.digest, expected).result !== 'pass') {
        throw new ModelError('DigestMismatch', `digest mismatch for ${id}: expected ${expected}, got ${resolved.digest}`, { expected, actual: resolved.digest })
      }
      return resolved
    },
  }
}

/** At most `n` tasks at once, in arrival order. */
export function semaphore (n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0
  const waiting: Array<() => void> = []
  return async (fn) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve))
    else active++
    try { return await fn() } finally {
      // hand the slot straight to the next waiter, so a newcomer cannot slip in between
      const next = waiting.shift()
      if (next) next()
      else active--
    }
  }
}
