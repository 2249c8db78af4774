import type { Test } from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A loopback HTTP server answering every GET with `body`; returns its /metrics URL. */
export async function fakeMetricsServer (t: Test, body: string, status = 200): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4' })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`
}
