/**
 * Process faults on real engine workers (spec §6.5 "engine restart", "simulated driver reset"):
 * SIGKILL, and SIGSTOP then SIGCONT (a hung worker). The pid comes from the public pool health
 * route (`replicas[].pid`), readiness from `/readyz`, so nothing reaches into the app's state.
 */
import { request } from 'undici'
import { agent } from './workload.js'

export async function getJson (base: string, path: string): Promise<{ status: number, body: any }> {
  const r = await request(base + path, { dispatcher: agent })
  const text = await r.body.text()
  let body: any = text
  try { body = JSON.parse(text) } catch {}
  return { status: r.statusCode, body }
}

export async function readyz (base: string): Promise<number> { return (await getJson(base, '/readyz')).status }

/** The pid of the pool's first replica, once it has one. */
export async function workerPid (base: string, pool: string, timeoutMs = 30_000): Promise<number> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const h = (await getJson(base, `/v1/pools/${pool}/health`)).body
    const pid = h?.replicas?.[0]?.pid
    if (typeof pid === 'number' && h.ready === true) return pid
    if (Date.now() > until) throw new Error(`pool ${pool} has no ready worker pid after ${timeoutMs} ms: ${JSON.stringify(h)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** ms from `since` until `/readyz` answers 200 (polled every 25 ms), or null past `boundMs`. */
export async function readyAfter (base: string, since: number, boundMs: number): Promise<number | null> {
  for (;;) {
    if (await readyz(base) === 200) return Date.now() - since
    if (Date.now() - since > boundMs) return null
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Waits until `/readyz` has said 503 (the fault was noticed), up to `boundMs`; false if it never did. */
export async function becameUnready (base: string, boundMs: number): Promise<boolean> {
  const until = Date.now() + boundMs
  while (Date.now() < until) {
    if (await readyz(base) === 503) return true
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return false
}

/** Sends `sig`; false when the process is gone (the supervisor may have replaced a hung worker first). */
export function signal (pid: number, sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): boolean {
  try { process.kill(pid, sig); return true } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
}
