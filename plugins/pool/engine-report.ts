/**
 * What an external engine says it is (issue 10 #13). The pool did not build or start it, so
 * its version is whatever the engine reports at its own version endpoint, and null (unknown)
 * when it reports none; never a word of ours such as "external". None of these endpoints
 * says whether the engine computes on a GPU, so an external pool's compute mode stays unknown.
 */
import { request } from 'undici'
import type { PreparedEngine } from '../../sdk/index.js'

/** Per engine: where it tells its version, and the field that holds it. */
const VERSION_AT: Readonly<Record<string, { path: string, field: string }>> = {
  llamacpp: { path: '/props', field: 'build_info' },
  vllm: { path: '/version', field: 'version' },
  tgi: { path: '/info', field: 'version' },
  triton: { path: '/v2', field: 'version' },
}

/** The engine's own version string, or null when it has no endpoint for it, says none, or does not answer in `timeoutMs`. */
export async function reportedVersion (prepared: PreparedEngine, timeoutMs = 2000): Promise<string | null> {
  const at = VERSION_AT[prepared.engine] ?? VERSION_AT[prepared.health.kind]
  if (at === undefined) return null
  try {
    const res = await request(new URL(at.path, prepared.health.url), { signal: AbortSignal.timeout(timeoutMs) })
    if (res.statusCode !== 200) { await res.body.dump(); return null }
    const body = await res.body.json() as Record<string, unknown> | null
    const v = body?.[at.field]
    return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 128) : null
  } catch {
    return null
  }
}
