import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const CORRELATION_HEADER = 'x-correlation-id'

// visible ASCII, space and tab: what may be echoed byte-identical in a response header
const LEGAL = /^[\x20-\x7e\t]{1,256}$/

/** The client's correlation id when it is a legal header value of ≤ 256 chars, else a fresh UUIDv4 (OC-CTRL-2052). */
export function correlationIdFor (req: IncomingMessage): string {
  const given = req.headers[CORRELATION_HEADER]
  return typeof given === 'string' && LEGAL.test(given) ? given : randomUUID()
}
