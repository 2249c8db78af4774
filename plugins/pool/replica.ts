/**
 * One engine replica: the child process started from a PreparedEngine (D4: the pool manager
 * owns spawn) and its health probe over HTTP. External engines have no process: the replica
 * is only a URL, and only the probe says whether it lives.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'undici'
import type { PreparedEngine } from '../../sdk/index.js'

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
  /** SIGTERM, then SIGKILL after `graceMs` (or the engine's own `stop_grace_ms`, if longer); resolves once the process is gone. */
  stop (graceMs: number): Promise<void>
  /** Calls `listener` with each line the process prints (stdout and stderr); absent for external engines. */
  onLine? (listener: (line: string) => void): void
}

export type SpawnReplica = (prepared: PreparedEngine, id: string) => Replica

const TAIL_BYTES = 2048

/** The base URL of an engine from its health URL (`http://h:p/health` → `http://h:p`). */
export function baseUrlOf (prepared: PreparedEngine): string {
  return new URL(prepared.health.url).origin
}

/**
 * What an engine inherits from our environment (spec pools §1.7: a whitelisted environment):
 * runtime and locale basics, GPU runtime and llama.cpp settings. Nothing else, so the keys and
 * tokens the orchestrator holds (HF_TOKEN, AWS_*, OPENAI_API_KEY, …) never reach an engine.
 * A trailing `*` matches a prefix.
 */
export const ENGINE_ENV: readonly string[] = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TMP', 'TEMP', 'SYSTEMROOT',
  'LD_LIBRARY_PATH', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
  'LC_*', 'XDG_*', 'CUDA_*', 'NVIDIA_*', 'HIP_*', 'ROCR_*', 'HSA_*', 'GGML_*', 'LLAMA_*', 'NODE_LLAMA_CPP_*', 'OMP_*', 'VK_*',
]

/** The engine's environment: the whitelisted part of `from` (plus `passthrough`), then the pool's own `env`. */
export function engineEnv (own: Record<string, string>, passthrough: readonly string[] = [], from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const patterns = [...ENGINE_ENV, ...passthrough]
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')))
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1))
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(from)) if (v !== undefined && (exact.has(k) || prefixes.some((p) => k.startsWith(p)))) env[k] = v
  return { ...env, ...own }
}

export const spawnReplica = (prepared: PreparedEngine, id: string, passthrough: readonly string[] = []): Replica => {
  if (prepared.mode === 'external') return externalReplica(prepared, id)
  const proc: ChildProcess = spawn(prepared.bin, prepared.args, {
    cwd: prepared.workdir,
    env: engineEnv(prepared.env, passthrough),
    // stdin stays open as a lifeline: a worker started with --exit-on-stdin-close ends with us
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let tail = ''
  const keep = (text: string): void => { tail = (tail + text).slice(-TAIL_BYTES) }
  const listeners: Array<(line: string) => void> = []
  const lines = (): ((d: Buffer) => void) => {
    let partial = ''
    return (d) => {
      const text = String(d)
      keep(text)
      if (listeners.length === 0) return
      const parts = (partial + text).split('\n')
      partial = parts.pop()!.slice(-TAIL_BYTES) // a line without its end yet, bounded
      for (const line of parts) for (const l of listeners) l(line)
    }
  }
  proc.stdout!.on('data', lines())
  proc.stderr!.on('data', lines())
  proc.stdin!.on('error', () => {}) // EPIPE after the child died is expected
  const exited = new Promise<ExitInfo>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }))
    proc.once('error', (err) => { keep(`spawn failed: ${err.message}\n`); resolve({ code: -1, signal: null }) })
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
    onLine: (listener) => { listeners.push(listener) },
    async stop (graceMs) {
      if (gone) return
      proc.kill('SIGTERM')
      const timer = setTimeout(() => { if (!gone) proc.kill('SIGKILL') }, Math.max(graceMs, prepared.stop_grace_ms ?? 0))
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
