/**
 * What the provider learns from a llama-server it did not build (modes `binary` and
 * `package`): that it runs, the build it reports, its digest, and whether it can use a GPU.
 * A source build knows all this from its own configure; a downloaded or installed binary
 * has to be asked.
 */
import { readdir } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import type { PoolConfig } from '../../sdk/pool-config.js'
import { sha256File } from '../../lib/digest.js'
import { runTool } from '../../lib/provision/command.js'
import { ORC_ERR_LLAMACPP_GPU_REQUIRED } from './errors.js'

/** The build a llama-server reports on `--version`. */
export interface ServerBuild { build: number, commit: string, line: string }

export type Probe = { ok: true, build: ServerBuild } | { ok: false, why: string }

/** A `--version` that takes longer than this is hung (a CUDA build probes devices, which takes seconds, not minutes). */
const PROBE_TIMEOUT_MS = 60_000

/**
 * The version line of either llama.cpp format: `version: 6550 (1a2b3c4d)` (releases up to
 * late 2025) and `version: 0.5.0-dev (build 6550, commit 1a2b3c4d)` (build-info since).
 */
export function parseVersionLine (line: string): ServerBuild | null {
  const old = /^version: (\d+) \(([0-9a-f]+)\)/.exec(line)
  if (old) return { build: Number(old[1]), commit: old[2]!, line }
  const now = /^version: \S+ \(build (\d+), commit ([0-9a-f]+)\)/.exec(line)
  if (now) return { build: Number(now[1]), commit: now[2]!, line }
  return null
}

/**
 * The engine version a binary's build gets: `llama.cpp-b<build>`, the upstream release tag
 * (what a source build of that tag records too). A build number of 0 or 1 means the binary
 * was built without git history, so the number says nothing and the commit is used instead.
 */
export const buildVersion = (b: ServerBuild): string => b.build > 1 ? `llama.cpp-b${b.build}` : `llama.cpp-${b.commit}`

/**
 * Runs `llama-server --version` the way the pool will start it (same env, no extra library
 * path): a binary whose shared libraries are missing fails here, at prepare, not at spawn.
 */
export async function probeServer (binary: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Probe> {
  const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS)
  const lines: string[] = []
  const r = await runTool(binary, ['--version'], {
    cwd: dirname(binary),
    env,
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    onLine: (l) => { lines.push(l) },
  }).catch((err: Error) => ({ code: null, signal: null, tail: err.message }))
  const last = r.tail.split('\n').filter((l) => l.trim() !== '').pop() ?? 'no output'
  if (timeout.aborted) return { ok: false, why: `llama-server --version did not finish within ${PROBE_TIMEOUT_MS / 1000} s` }
  if (r.code !== 0) return { ok: false, why: `llama-server --version exited with ${r.code ?? r.signal ?? 'an error'}: ${last.slice(0, 300)}` }
  for (const l of lines) {
    const build = parseVersionLine(l.trim())
    if (build) return { ok: true, build }
  }
  return { ok: false, why: `llama-server --version printed no llama.cpp version line (last line: ${last.slice(0, 300)})` }
}

export const binaryDigest = async (binary: string): Promise<string> => `sha256:${(await sha256File(binary)).hex}`

/** `libggml-cuda.so`, `libggml-cuda.so.0.9.1`: the CUDA backend, linked or loaded at run time. */
const isCudaBackend = (name: string): boolean => name.startsWith('libggml-cuda') && /\.so(\.\d+)*$/.test(name)

/**
 * What the binary supports: `gpu` when a CUDA backend lies beside it (release archives and
 * our own builds put the backends next to llama-server) or among `files` (a package's file
 * list: distributions put it under /usr/lib). Only CUDA counts: that is the backend the pool
 * hands devices to (CUDA_VISIBLE_DEVICES).
 */
export async function supportedCompute (binary: string, files: readonly string[] = []): Promise<'gpu' | 'cpu'> {
  const beside = await readdir(dirname(binary)).catch(() => [] as string[])
  return [...beside, ...files.map((f) => basename(f))].some(isCudaBackend) ? 'gpu' : 'cpu'
}

/**
 * The compute mode the pool runs in (decision D1): cpu-only never uses a GPU even with a CUDA
 * binary; gpu-required refuses a binary without CUDA (`why` says which binary); cpu-fallback
 * takes what the binary supports.
 */
export function computeFor (pool: PoolConfig, supported: 'gpu' | 'cpu', why: string): 'gpu' | 'cpu' {
  const policy = pool.provisioning.compute_policy
  if (policy === 'cpu-only') return 'cpu'
  if (supported === 'cpu' && policy === 'gpu-required') throw new ORC_ERR_LLAMACPP_GPU_REQUIRED(pool.id, why, 'use a CUDA build of llama-server')
  return supported
}
