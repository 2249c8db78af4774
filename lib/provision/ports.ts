import { createServer } from 'node:net'

/** A port free on `host` now (the OS picks it); an engine started right after binds it. */
export async function freePort (host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/** `host` as it goes into a URL (IPv6 in brackets). */
export const urlHost = (host: string): string => host.includes(':') ? `[${host}]` : host
