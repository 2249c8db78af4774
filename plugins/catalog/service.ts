import { stat } from 'node:fs/promises'
import { CatalogError } from '../../lib/catalog-store/errors.js'
import { digestPath } from '../../lib/digest.js'
import { verifyDigest, type Verification } from '../../lib/catalog-store/model-ref.js'
import { assertModelId, normaliseDigest } from '../../lib/catalog-store/ids.js'
import type { CatalogStore } from '../../lib/catalog-store/store.js'
import type { EntryTrustPolicy, Lifecycle, ModelEntry, TrustState } from '../../lib/catalog-store/entries.js'

/**
 * Catalog operations shared by the `/v1/catalog` routes and the `llama-orch models` CLI,
 * so both behave the same: ingest (D14), paginated listing (ORCH-3470), verification
 * (D17, ORCH-3037/3097) and the trust policy (§3.3).
 */

/** The control-plane `CatalogModel` a client posts: an entry's descriptive fields plus a digest. */
export type CatalogModel = Pick<ModelEntry, 'id' | 'source_url' | 'tags' | 'manifests' | 'signatures' | 'sbom' | 'trust_policy'> & { digest: string }

export interface VerificationCounter { inc (labels: { result: string, reason: string, engine: string }): void }

/** The control-plane view of an entry: `lifecycle` is published as `state` (api-and-core §3.3). */
export function toApi (e: ModelEntry): Record<string, unknown> {
  const { lifecycle, ...rest } = e
  return { ...rest, digest: e.digest ?? '', state: lifecycle }
}

/** The effective policy: the server's, tightened (never loosened) by the entry's (D17). */
export function effectivePolicy (server: EntryTrustPolicy | null | undefined, entry: EntryTrustPolicy | null | undefined): EntryTrustPolicy {
  const s = server ?? {}
  const e = entry ?? {}
  const a = s.allowed_registries ?? []
  const b = e.allowed_registries ?? []
  return {
    mode: s.mode === 'strict' || e.mode === 'strict' ? 'strict' : 'permissive',
    require_signature: s.require_signature === true || e.require_signature === true,
    require_sbom: s.require_sbom === true || e.require_sbom === true,
    allowed_registries: a.length > 0 && b.length > 0 ? a.filter((r) => b.includes(r)) : a.length > 0 ? a : b,
  }
}

/** What the policy finds missing (empty when the model satisfies it). */
export function trustProblems (m: Pick<CatalogModel, 'signatures' | 'sbom' | 'source_url'>, policy: EntryTrustPolicy): string[] {
  const problems: string[] = []
  if (policy.require_signature && !(m.signatures ?? []).some((s) => s.verified)) problems.push('no signature with verified:true')
  if (policy.require_sbom && m.sbom === undefined) problems.push('no sbom')
  const allowed = policy.allowed_registries ?? []
  if (allowed.length > 0 && m.source_url !== undefined) {
    let host = ''
    try { host = new URL(m.source_url).hostname } catch { host = '' }
    if (!allowed.includes(host)) problems.push(`source_url host "${host}" is not in allowed_registries (${allowed.join(', ')})`)
  }
  return problems
}

/**
 * POST /v1/catalog/models: creates an Active entry. Same id and digest → the existing entry
 * (`created: false`); a different digest → CatalogError Conflict (D14); a strict policy that
 * the model breaks → CatalogError Untrusted, and nothing is written.
 */
export async function ingest (
  store: CatalogStore,
  body: CatalogModel,
  serverPolicy: EntryTrustPolicy | null | undefined,
  now = Date.now()
): Promise<{ created: boolean, entry: ModelEntry }> {
  // ids and digests are checked before anything else, so a bad body changes nothing (issue 10 #11)
  assertModelId(body.id)
  const normalised = normaliseDigest(body.digest)
  const manifests = body.manifests?.map((m, i) => ({ ...m, digest: normaliseDigest(m.digest, `manifests[${i}].digest`) }))
  const sbom = body.sbom === undefined ? undefined : { ...body.sbom, digest: normaliseDigest(body.sbom.digest, 'sbom.digest') }
  const policy = effectivePolicy(serverPolicy, body.trust_policy)
  const problems = trustProblems(body, policy)
  if (policy.mode === 'strict' && problems.length > 0) {
    throw new CatalogError('Untrusted', `model ${body.id} breaks the strict trust policy: ${problems.join('; ')}`)
  }
  const existing = store.get(body.id)
  if (existing !== undefined) {
    if (existing.digest === normalised) return { created: false, entry: existing }
    throw new CatalogError('Conflict',
      `model ${body.id} is already in the catalog with digest ${existing.digest ?? '(none)'}, not ${normalised}; delete it first or use another id`)
  }
  const { digest: _ignored, ...meta } = body
  const entry = await store.put({
    ...meta,
    ...(manifests !== undefined ? { manifests } : {}),
    ...(sbom !== undefined ? { sbom } : {}),
    id: body.id,
    digest: normalised,
    local_path: null,
    lifecycle: 'Active',
    last_verified_ms: null,
    created_ms: now,
    updated_ms: now,
  })
  return { created: true, entry }
}

export interface Page { items: ModelEntry[], next_cursor: string | null }

export const encodeCursor = (afterId: string): string => Buffer.from(JSON.stringify({ after_id: afterId })).toString('base64url')

/** The id a cursor continues after; throws InvalidEntry for anything that is not one of ours. */
export function decodeCursor (cursor: string): string {
  try {
    const doc = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after_id?: unknown }
    if (typeof doc.after_id === 'string') return doc.after_id
  } catch { /* fall through */ }
  throw new CatalogError('InvalidEntry', 'cursor is not one this server issued; start again without a cursor')
}

/**
 * Keyset pagination by id: a page holds the first `limit` ids greater than the cursor's, so
 * an insertion or deletion during a scan never repeats or skips an id that existed throughout.
 */
export function listPage (store: CatalogStore, limit: number, cursor?: string): Page {
  const after = cursor === undefined ? undefined : decodeCursor(cursor)
  const all = store.list().filter((e) => after === undefined || e.id > after)
  const items = all.slice(0, limit)
  return { items, next_cursor: all.length > limit ? encodeCursor(items.at(-1)!.id) : null }
}

const TRUST: Record<Verification['result'], TrustState> = { pass: 'verified', warn: 'warned', fail: 'unverified' }

/**
 * Hashes the entry's artifact and compares it with its recorded digest (D17), applies the
 * trust policy, stamps `last_verified_ms`, `verification` and `trust_state`, and counts the
 * outcome in `catalog_verifications_total`.
 */
export async function verifyEntry (
  store: CatalogStore,
  id: string,
  o: { policy?: EntryTrustPolicy | null, counter?: VerificationCounter, engine?: string, now?: () => number } = {}
): Promise<ModelEntry> {
  const entry = store.get(id)
  if (entry === undefined) throw new CatalogError('NotFound', `no model ${JSON.stringify(id)} in the catalog`, { id })
  let actual: { digest: string, size_bytes: number, mtime_ms: number } | null = null
  if (entry.local_path !== null) {
    try {
      const st = await stat(entry.local_path)
      actual = { ...await digestPath(entry.local_path), mtime_ms: st.mtimeMs }
    } catch { actual = null }
  }
  let verification = verifyDigest(actual?.digest, entry.digest)
  if (entry.local_path === null || actual === null) verification = { result: 'fail', reason: 'missing_actual_digest' }
  const policy = effectivePolicy(o.policy, entry.trust_policy)
  const problems = trustProblems(entry, policy)
  if (verification.result !== 'fail' && problems.length > 0) {
    verification = policy.mode === 'strict' ? { result: 'fail', reason: 'untrusted' } : { result: 'warn', reason: 'unsigned_or_no_sbom' }
  }
  o.counter?.inc({ result: verification.result, reason: verification.reason, engine: o.engine ?? 'none' })
  const now = (o.now ?? Date.now)()
  return store.update(id, (e) => ({
    ...e,
    verification,
    trust_state: TRUST[verification.result],
    last_verified_ms: now,
    ...(actual !== null ? { size_bytes: actual.size_bytes, mtime_ms: actual.mtime_ms } : {}),
  }))
}

export function parseState (state: unknown): Lifecycle {
  if (state === 'Active' || state === 'Retired') return state
  throw new CatalogError('InvalidEntry',
    `state must be "Active" or "Retired", got ${JSON.stringify(state)} (Deprecated and other legacy states were removed, D7)`)
}
