import type { FastifyReply, FastifyRequest } from 'fastify'
import { canonicalSha256 } from '../../lib/canonical.js'

/** Strong ETag of a body: the hex sha256 of its canonical JSON (ORCH-3470). */
export const etagOf = (body: unknown): string => `"${canonicalSha256(body)}"`

function matches (header: string, etag: string): boolean {
  return header.split(',').map((t) => t.trim().replace(/^W\//, '')).some((t) => t === '*' || t === etag)
}

/**
 * Sets `ETag` (and `Last-Modified` when known) and answers 304 when the client's copy is
 * current: `If-None-Match` first, else `If-Modified-Since` ≥ `Last-Modified` (HTTP-date
 * granularity is a second). Returns true when the 304 was sent.
 */
export function notModified (req: FastifyRequest, reply: FastifyReply, body: unknown, lastModifiedMs?: number, etagInput: unknown = body): boolean {
  const etag = etagOf(etagInput)
  reply.header('etag', etag)
  if (lastModifiedMs !== undefined) reply.header('last-modified', new Date(lastModifiedMs).toUTCString())
  const inm = req.headers['if-none-match']
  const ims = req.headers['if-modified-since']
  const fresh = inm !== undefined
    ? matches(inm, etag)
    : ims !== undefined && lastModifiedMs !== undefined && !Number.isNaN(Date.parse(ims)) && Date.parse(ims) >= Math.floor(lastModifiedMs / 1000) * 1000
  if (fresh) reply.code(304).send()
  return fresh
}
