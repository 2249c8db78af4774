import { request, type Dispatcher } from 'undici'
import { ModelError } from './errors.js'
import { assertOutbound, type OutboundPolicy } from './policy.js'

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co'

/** The hub base URL: `HF_ENDPOINT` (decision 13) over the manifest's `catalog.fetch.hf_endpoint`. */
export function hfEndpoint (configured: string | null | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT ?? configured ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, '')
}

/** `Authorization` for the hub when HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) is set; sent to the hub host only. */
export function hfAuth (env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN
  return token ? { authorization: `Bearer ${token}` } : {}
}

const enc = (path: string): string => path.split('/').map(encodeURIComponent).join('/')

export function hfFileUrl (endpoint: string, org: string, repo: string, revision: string, path: string): string {
  return `${endpoint}/${enc(org)}/${enc(repo)}/resolve/${encodeURIComponent(revision)}/${enc(path)}`
}

export interface RepoListing { sha: string | null, files: string[] }

/** The files of a repo revision (`GET /api/models/{org}/{repo}/revision/{rev}` → siblings). */
export async function listRepo (o: {
  endpoint: string
  org: string
  repo: string
  revision: string
  policy: OutboundPolicy
  what: string
  signal?: AbortSignal
  dispatcher?: Dispatcher
  timeoutMs?: number
}): Promise<RepoListing> {
  const url = new URL(`${o.endpoint}/api/models/${enc(o.org)}/${enc(o.repo)}/revision/${encodeURIComponent(o.revision)}`)
  assertOutbound(o.policy, url.hostname, o.what)
  let res: Dispatcher.ResponseData
  try {
    res = await request(url, {
      headers: { accept: 'application/json', ...hfAuth() },
      signal: o.signal,
      dispatcher: o.dispatcher,
      headersTimeout: o.timeoutMs ?? 30_000,
      bodyTimeout: o.timeoutMs ?? 30_000,
    })
  } catch (err) {
    throw new ModelError('FetchFailed', `${o.what}: the hub at ${url.origin} could not be reached (${(err as Error).message})`)
  }
  if (res.statusCode !== 200) {
    await res.body.dump()
    throw new ModelError(res.statusCode === 404 ? 'NotFound' : 'FetchFailed',
      `${o.what}: the hub answered ${res.statusCode} for ${o.org}/${o.repo}@${o.revision}`, { status: res.statusCode })
  }
  const doc = await res.body.json() as { sha?: string, siblings?: Array<{ rfilename?: unknown }> }
  const files = (doc.siblings ?? []).map((s) => s.rfilename).filter((f): f is string => typeof f === 'string')
  for (const f of files) {
    if (f.split('/').some((p) => p === '' || p === '.' || p === '..') || f.includes('\\') || f.startsWith('/')) {
      throw new ModelError('FetchFailed', `${o.what}: the hub listed an unsafe file name ${JSON.stringify(f)}; refusing to stage it`)
    }
  }
  if (files.length === 0) throw new ModelError('NotFound', `${o.what}: the hub lists no files for ${o.org}/${o.repo}@${o.revision}`)
  return { sha: typeof doc.sha === 'string' ? doc.sha : null, files }
}
