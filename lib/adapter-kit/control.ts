import type { CallOpts, WorkerHealth } from '../../sdk/index.js'
import type { CallOptions, HttpClient } from '../http-client/client.js'

/** CallOpts of the adapter contract as HttpClient call options. */
export function callOpts (o?: CallOpts): Pick<CallOptions, 'signal' | 'timeoutMs'> {
  const out: Pick<CallOptions, 'signal' | 'timeoutMs'> = {}
  if (o?.signal) out.signal = o.signal
  if (o?.timeoutMs !== undefined) out.timeoutMs = o.timeoutMs
  return out
}

/**
 * A readiness probe: any HTTP answer means live, a 2xx means ready, no answer means
 * neither. One try: health is polled anyway, and a dead engine must read dead quickly.
 */
export async function probe (client: HttpClient, url: string, headers: Record<string, string> = {}, o?: CallOpts): Promise<WorkerHealth> {
  try {
    const r = await client.call(url, { headers, attempts: 1, ...callOpts(o) })
    return { live: true, ready: r.status >= 200 && r.status < 300 }
  } catch {
    return { live: false, ready: false }
  }
}

/** Parses a frame's JSON; a SyntaxError maps to `malformed_frame`. */
export function frameJson (data: string): Record<string, unknown> {
  const v: unknown = JSON.parse(data)
  if (v === null || typeof v !== 'object') throw new SyntaxError(`a frame that is not a JSON object: ${data.slice(0, 80)}`)
  return v as Record<string, unknown>
}

export const num = (v: unknown): number | undefined => typeof v === 'number' && Number.isFinite(v) ? v : undefined
export const text = (v: unknown): string | undefined => typeof v === 'string' ? v : undefined
export const trimSlash = (url: string): string => url.replace(/\/+$/, '')
