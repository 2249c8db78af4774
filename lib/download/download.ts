import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, readFile, rm, writeFile } from 'node:fs/promises'
import { request, type Dispatcher } from 'undici'
import { KindedError } from '../errors.js'
import { redactString } from '../../sdk/redact.js'
import { outboundRefusal, type OutboundPolicy } from './policy.js'

export interface DownloadOptions {
  url: string
  /** The partial file; `<part>.json` beside it remembers the URL and validator for resumes. */
  part: string
  policy: OutboundPolicy
  /** What the download is for, in messages (the model ref). */
  what: string
  headers?: Record<string, string>
  /** Headers only sent to the first host (e.g. the hub token), dropped on a cross-host redirect. */
  firstHostHeaders?: Record<string, string>
  idleTimeoutMs?: number
  signal?: AbortSignal
  dispatcher?: Dispatcher
  onBytes?: (done: number, total: number | null) => void
  /** The error a failure throws (the model provisioner's ModelError); a DownloadError by default. */
  fail?: (kind: DownloadErrorKind, message: string, details?: Record<string, unknown>) => Error
}

export const DOWNLOAD_ERRORS = {
  NotFound: { code: 'ORC_ERR_DOWNLOAD_NOT_FOUND', statusCode: 404 },
  PolicyDenied: { code: 'ORC_ERR_DOWNLOAD_POLICY_DENIED', statusCode: 403 },
  FetchFailed: { code: 'ORC_ERR_DOWNLOAD_FAILED', statusCode: 502 },
} as const
export type DownloadErrorKind = keyof typeof DOWNLOAD_ERRORS

export class DownloadError extends KindedError<DownloadErrorKind> {
  constructor (kind: DownloadErrorKind, message: string, details: Record<string, unknown> = {}) {
    // URLs may carry credentials or signed query strings: never let them into a message
    super(DOWNLOAD_ERRORS, kind, redactString(message), details)
    this.name = 'DownloadError'
  }
}

const defaultFail = (kind: DownloadErrorKind, message: string, details?: Record<string, unknown>): Error => new DownloadError(kind, message, details)
const failOf = (o: DownloadOptions): NonNullable<DownloadOptions['fail']> => o.fail ?? defaultFail

export interface Downloaded {
  /** sha256 of the whole file, computed while writing (and over the resumed prefix). */
  hex: string
  size: number
  /** A sha256 the server vouched for (`X-Linked-Etag` of the Hugging Face hub), when given. */
  claimedSha256: string | null
  resumedFrom: number
}

interface PartMeta { url: string, validator: string | null }

const MAX_REDIRECTS = 10
const WRITE_BATCH = 256 * 1024

async function hashPrefix (part: string): Promise<{ hash: Hash, size: number }> {
  const hash = createHash('sha256')
  let size = 0
  try {
    for await (const chunk of createReadStream(part, { highWaterMark: 1 << 20 })) { hash.update(chunk as Buffer); size += (chunk as Buffer).length }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  return { hash, size }
}

const header = (h: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = h[name]
  return Array.isArray(v) ? v[0] : v
}

function claimedSha (h: Record<string, string | string[] | undefined>): string | null {
  const v = (header(h, 'x-linked-etag') ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase()
  return /^[0-9a-f]{64}$/.test(v) ? v : null
}

/**
 * Streams one URL into `part` with undici (ORCH-3436, decision 13): resumes a partial file
 * with `Range` (guarded by `If-Range`), hashes while writing, follows redirects itself so
 * every hop passes the outbound policy, and fsyncs before returning. A server that ignores
 * the range restarts the file; nothing is ever appended at a wrong offset.
 */
export async function download (o: DownloadOptions): Promise<Downloaded> {
  const metaFile = `${o.part}.json`
  const meta = await readFile(metaFile, 'utf8').then((t) => JSON.parse(t) as PartMeta).catch(() => null)
  if (meta?.url !== o.url) await rm(o.part, { force: true })
  let { hash, size: have } = await hashPrefix(o.part)
  const resumedFrom = have
  let url = new URL(o.url)
  const firstHost = url.host
  let claimed: string | null = null
  for (let hop = 0; ; hop++) {
    const refused = outboundRefusal(o.policy, url.hostname, o.what)
    if (refused !== null) throw failOf(o)('PolicyDenied', refused, { host: url.hostname })
    const headers: Record<string, string> = { ...o.headers, ...(url.host === firstHost ? o.firstHostHeaders : {}) }
    if (have > 0) {
      headers.range = `bytes=${have}-`
      if (meta?.validator) headers['if-range'] = meta.validator
    }
    let res: Dispatcher.ResponseData
    try {
      res = await request(url, {
        method: 'GET',
        headers,
        signal: o.signal,
        dispatcher: o.dispatcher,
        headersTimeout: o.idleTimeoutMs ?? 30_000,
        bodyTimeout: o.idleTimeoutMs ?? 30_000,
      })
    } catch (err) {
      if (o.signal?.aborted) throw err
      throw failOf(o)('FetchFailed',
        `${o.what}: ${url.origin} could not be reached (${(err as Error).message}); the next pull resumes`, { url: url.origin })
    }
    claimed = claimedSha(res.headers) ?? claimed
    const location = header(res.headers, 'location')
    if (res.statusCode >= 300 && res.statusCode < 400 && location !== undefined) {
      await res.body.dump()
      if (hop >= MAX_REDIRECTS) throw failOf(o)('FetchFailed', `${o.what}: more than ${MAX_REDIRECTS} redirects from ${o.url}`)
      url = new URL(location, url)
      continue
    }
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header(res.headers, 'content-range') ?? '')
    if (res.statusCode === 416 && have > 0) {
      await res.body.dump()
      const total = /\/(\d+)$/.exec(header(res.headers, 'content-range') ?? '')?.[1]
      if (total !== undefined && Number(total) === have) return finish(o, hash, have, claimed, resumedFrom)
      await rm(o.part, { force: true }); ({ hash, size: have } = await hashPrefix(o.part))
      continue
    }
    if (res.statusCode !== 200 && !(res.statusCode === 206 && range !== null && Number(range[1]) === have)) {
      await res.body.dump()
      if (res.statusCode === 206) { // a range we did not ask for: start over
        await rm(o.part, { force: true }); ({ hash, size: have } = await hashPrefix(o.part))
        continue
      }
      const kind = res.statusCode === 404 ? 'NotFound' : 'FetchFailed'
      const hint = res.statusCode === 401 || res.statusCode === 403 ? ' (gated or private? set HF_TOKEN for the hub)' : ''
      throw failOf(o)(kind, `${o.what}: ${url.origin}${url.pathname} answered ${res.statusCode}${hint}`, { status: res.statusCode })
    }
    if (res.statusCode === 200 && have > 0) { hash = createHash('sha256'); have = 0 }
    const total = res.statusCode === 206
      ? (range![2] === '*' ? null : Number(range![2]))
      : (header(res.headers, 'content-length') !== undefined ? Number(header(res.headers, 'content-length')) : null)
    const validator = header(res.headers, 'etag') ?? header(res.headers, 'last-modified') ?? null
    await writeFile(metaFile, JSON.stringify({ url: o.url, validator } satisfies PartMeta))
    let done = have
    o.onBytes?.(done, total)
    // writes are batched (256 KiB) and awaited, and a batch is flushed even when the
    // connection breaks: whatever arrived is on disk, so a resume never fetches it again
    const fd = await open(o.part, have > 0 ? 'a' : 'w')
    let batch: Buffer[] = []
    let batched = 0
    const flush = async (): Promise<void> => {
      if (batched === 0) return
      const bufs = batch
      batch = []
      batched = 0
      await fd.writev(bufs)
    }
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        hash.update(chunk)
        batch.push(chunk)
        batched += chunk.length
        done += chunk.length
        if (batched >= WRITE_BATCH) await flush()
        o.onBytes?.(done, total)
      }
      await flush()
    } catch (err) {
      await flush().catch(() => {})
      if (o.signal?.aborted) throw err
      throw failOf(o)('FetchFailed', `${o.what}: the download broke off after ${done} bytes (${(err as Error).message}); the next pull resumes`)
    } finally {
      await fd.close()
    }
    if (total !== null && done !== total) {
      throw failOf(o)('FetchFailed', `${o.what}: the connection closed after ${done} of ${total} bytes; the next pull resumes`)
    }
    return finish(o, hash, done, claimed, resumedFrom)
  }
}

async function finish (o: DownloadOptions, hash: Hash, size: number, claimed: string | null, resumedFrom: number): Promise<Downloaded> {
  const fd = await open(o.part, 'r+')
  try { await fd.sync() } finally { await fd.close() }
  const hex = hash.digest('hex')
  if (claimed !== null && claimed !== hex) {
    await rm(o.part, { force: true })
    await rm(`${o.part}.json`, { force: true })
    throw failOf(o)('FetchFailed', `${o.what}: the server vouched for sha256:${claimed} but sent sha256:${hex}; the corrupt download was discarded, retry`)
  }
  await rm(`${o.part}.json`, { force: true })
  return { hex, size, claimedSha256: claimed, resumedFrom }
}
