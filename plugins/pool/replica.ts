/**
 * One engine replica: the child process started from a PreparedEngine (D4: the pool manager
 * owns spawn) and its health probe over HTTP. External engines have no process: the replica
 * is only a URL, and only the probe says whether it lives.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'undici'
import type { PreparedEngine } from '../../core/sdk.js'

export interface ExitInfo { code: number | null, signal: NodeJS.Signals | null }

export interface Replica {
  readonly id: string
  readonly prepared: PreparedEngine
  readonly pid: number | undefined
  /** Resolves when the process exits (never, for an external engine). */
  readonly exited: Promise<ExitInfo>
  alive (): boolean
  /** The last lines the process printed (for last_error). */
  tail (): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop (graceMs: number): Promise<void>
}

export type SpawnReplica = (prepared: PreparedEngine, id: string) => Replica

const TAIL_BYTES = 2048

/** The base URL of an engine from its health URL (`http://h:p/health` → `http://h:p`). */
export function baseUrlOf (prepared: PreparedEngine): string {
  return new URL(prepared.health.url).origin
}

export const spawnReplica: SpawnReplica = (prepared, id) => {
  if (prepared.mode === 'external') return externalReplica(prepared, id)
  const proc: ChildProcess = spawn(prepared.bin, prepared.args, {
    cwd: prepared.workdir,
    env: { ...process.env, ...prepared.env },
    // stdin stays open as a lifeline: a worker started with --exit-on-stdin-close ends with us
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let tail = ''
  const keep = (d: Buffer): void => { tail = (tail + String(d)).slice(-TAIL_BYTES) }
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  proc.stdin!.on('error', () => {}) // EPIPE after the child died is expected
  const exited = new Promise<ExitInfo>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }))
    proc.once('error', (err) => { keep(Buffer.from(`spawn failed: ${err.message}\n`)); resolve({ code: -1, signal: null }) })
  })
  let gone = false
  void exited.then(() => { gone = true })
  return {
    id,
    prepared,
    pid: proc.pid,
    exited,
    alive: () => !gone,
    tail: () => tail.trim(),
    async stop (graceMs) {
      if (gone) return
      proc.kill('SIGTERM')
      const timer = setTimeout(() => { if (!gone) proc.kill('SIGKILL') }, graceMs)
      timer.unref()
      await exited
      clearTimeout(timer)
    },
  }
}

function externalReplica (prepared: PreparedEngine, id: string): Replica {
  return { id, prepared, pid: undefined, exited: new Promise<ExitInfo>(() => {}), alive: () => true, tail: () => '', stop: async () => {} }
}

/** One health probe: true only for HTTP 200 within `timeoutMs`. Never throws. */
export async function probeHealth (url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await request(url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) })
    await res.body.dump()
    return res.statusCode === 200
  } catch {
    return false
  }
}

export type Probe = typeof probeHealth
