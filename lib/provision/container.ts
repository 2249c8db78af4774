/**
 * The container runtime as the container providers use it (spec pools §2.2 mode container,
 * §2.6 common rules): podman preferred (rootless), docker otherwise; an image used as it is
 * when present locally and pulled through the outbound gate only when absent; the verified
 * image (its digest, never a tag that may have moved) run in the foreground with the pool's
 * ports published on its host, its env passed by name, the model mounted read-only and the
 * GPUs of its device mask. The pool manager supervises that foreground `run` process: the
 * CLI proxies SIGTERM to the container and `--rm` removes it once it ends.
 */
import { execFile } from 'node:child_process'
import { basename } from 'node:path'
import type { ProvisionProgress } from '../../sdk/provisioner.js'
import { outboundRefusal, type OutboundPolicy } from '../download/policy.js'
import { runTool } from './command.js'
import { describeMissing, findTools } from './preflight.js'
import type { ImageRef } from './container-image.js'
import { sameRepository } from './container-image.js'
import {
  ORC_ERR_CONTAINER_DIGEST, ORC_ERR_CONTAINER_POLICY, ORC_ERR_CONTAINER_PULL, ORC_ERR_CONTAINER_RUNTIME, ORC_ERR_CONTAINER_RUNTIME_MISSING,
} from './container-errors.js'

export type RuntimeKind = 'podman' | 'docker'

export interface ContainerRuntime {
  kind: RuntimeKind
  /** Absolute path of the CLI (what the pool manager spawns). */
  path: string
  /** The first line of `--version`. */
  version: string
}

export type ContainerNarrate = (action: string, human: string, fields?: Record<string, unknown>, level?: 'info' | 'warn') => void

const firstLine = (text: string): string => text.trim().split('\n')[0]?.trim() ?? ''
const lastLine = (text: string): string => text.trim().split('\n').pop()?.trim() ?? ''

interface Captured { code: number, out: string, err: string }

/** A short command whose stdout is read whole (JSON); the exit status is returned, not thrown. */
async function capture (cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Captured> {
  return await new Promise((resolve, reject) => {
    execFile(cmd, args, { env, maxBuffer: 16 << 20, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code !== 'number') { reject(err); return }
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code) : 0, out: String(stdout), err: String(stderr) })
    })
  })
}

/**
 * The runtime to use: the first of podman, docker on PATH (preflight, spec §2.3). Its kind
 * comes from `--version`, not the file name, so a `docker` that is podman's shim counts as podman.
 */
export async function findRuntime (poolId: string, env: NodeJS.ProcessEnv = process.env): Promise<ContainerRuntime> {
  const [check] = await findTools(['container'], env)
  if (!check?.found) throw new ORC_ERR_CONTAINER_RUNTIME_MISSING(poolId, `install ${describeMissing(check ? [check] : [])}`)
  const v = await capture(check.found, ['--version'], env)
  if (v.code !== 0) throw new ORC_ERR_CONTAINER_RUNTIME(poolId, `${basename(check.found)} --version`, firstLine(v.err || v.out) || `exit ${v.code}`)
  const version = firstLine(v.out)
  return { kind: /podman/i.test(version) ? 'podman' : 'docker', path: check.found, version }
}

export interface ImageInfo {
  /** The image id, `sha256:<hex>`. */
  id: string
  /** The repository digest (`sha256:<hex>`) when the image came from a registry, else the id. */
  digest: string
  /** What `run` is given: `repo@sha256:…` when there is a repository digest, else the id. */
  runRef: string
  labels: Record<string, string>
  /** The image's own environment (`Config.Env`), where engine images state their versions. */
  env: Record<string, string>
}

interface Inspected {
  Id?: string
  RepoDigests?: string[] | null
  Labels?: Record<string, string> | null
  Config?: { Labels?: Record<string, string> | null, Env?: string[] | null } | null
}

/** An image that is not there, in the words of docker (`No such image`) and podman (`image not known`). */
const ABSENT = /no such (image|object)|image not known|not found/i

/** Local facts about `reference`, or null when the runtime does not have it. Docker and podman print different shapes. */
export async function inspectImage (
  rt: ContainerRuntime,
  reference: string,
  poolId: string,
  o: { env?: NodeJS.ProcessEnv, signal?: AbortSignal } = {}
): Promise<ImageInfo | null> {
  const r = await capture(rt.path, ['image', 'inspect', reference], o.env ?? process.env, o.signal)
  if (r.code !== 0) {
    if (ABSENT.test(r.err) || ABSENT.test(r.out)) return null
    throw new ORC_ERR_CONTAINER_RUNTIME(poolId, `${rt.kind} image inspect ${reference}`, firstLine(r.err || r.out) || `exit ${r.code}`)
  }
  let parsed: Inspected | undefined
  try {
    parsed = (JSON.parse(r.out) as Inspected[])[0]
  } catch {}
  if (!parsed?.Id) throw new ORC_ERR_CONTAINER_RUNTIME(poolId, `${rt.kind} image inspect ${reference}`, 'its output is not the expected JSON')
  const id = parsed.Id.startsWith('sha256:') ? parsed.Id : `sha256:${parsed.Id}` // podman prints the bare hex
  const name = reference.replace(/@.*$/, '').replace(/:[^/:]+$/, '')
  const digests = parsed.RepoDigests ?? []
  const pinned = reference.includes('@') ? reference.slice(reference.indexOf('@')) : null
  const repoDigest = (pinned !== null ? digests.find((d) => d.endsWith(pinned)) : undefined) ??
    digests.find((d) => sameRepository(d.replace(/@.*$/, ''), name)) ?? digests[0]
  const env: Record<string, string> = {}
  for (const kv of parsed.Config?.Env ?? []) {
    const eq = kv.indexOf('=')
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1)
  }
  return {
    id,
    digest: repoDigest ? repoDigest.slice(repoDigest.indexOf('@') + 1) : id,
    runRef: repoDigest ?? parsed.Id,
    labels: { ...(parsed.Labels ?? {}), ...(parsed.Config?.Labels ?? {}) },
    env,
  }
}

export interface EnsureImageContext {
  poolId: string
  policy: OutboundPolicy
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  progress?: (p: ProvisionProgress) => void
  narrate?: ContainerNarrate
}

/**
 * The image, locally: used as it is when present (no network, so no gate); otherwise the
 * outbound gate for its registry decides, then `pull` (its lines as progress), then the
 * image is inspected again. A digest pin must match what the runtime holds.
 */
export async function ensureImage (rt: ContainerRuntime, image: ImageRef, ctx: EnsureImageContext): Promise<ImageInfo & { pulled: boolean }> {
  const o = { ...(ctx.env ? { env: ctx.env } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) }
  let info = await inspectImage(rt, image.reference, ctx.poolId, o)
  const pulled = info === null
  if (info === null) {
    const refused = outboundRefusal(ctx.policy, image.registry, `image ${image.reference}`)
    if (refused !== null) throw new ORC_ERR_CONTAINER_POLICY(ctx.poolId, refused, `${rt.kind} pull ${image.reference}`)
    ctx.narrate?.('pull', `pulls ${image.reference} with ${rt.kind}`.slice(0, 100), { image: image.reference, registry: image.registry, runtime: rt.kind })
    const r = await runTool(rt.path, ['pull', image.reference], {
      ...o,
      onLine: (line) => { if (line.trim()) ctx.progress?.({ step: 'image-pull', line }) },
    })
    if (r.code !== 0) throw new ORC_ERR_CONTAINER_PULL(ctx.poolId, image.reference, lastLine(r.tail) || `exit ${r.code ?? r.signal}`)
    info = await inspectImage(rt, image.reference, ctx.poolId, o)
    if (info === null) throw new ORC_ERR_CONTAINER_PULL(ctx.poolId, image.reference, 'the runtime does not list the image after the pull')
  }
  if (image.digest !== null && info.digest !== image.digest) throw new ORC_ERR_CONTAINER_DIGEST(ctx.poolId, image.reference, info.digest)
  return { ...info, pulled }
}

/** GPU access per runtime: docker's `--gpus` (quoted, since it parses its value as CSV), podman's CDI devices; none on CPU. */
export function gpuFlags (kind: RuntimeKind, devices: readonly number[] | null): string[] {
  if (devices === null || devices.length === 0) return []
  if (kind === 'podman') return devices.flatMap((d) => ['--device', `nvidia.com/gpu=${d}`])
  return ['--gpus', devices.length === 1 ? `device=${devices[0]}` : `"device=${devices.join(',')}"`]
}

export interface RunSpec {
  runtime: RuntimeKind
  name: string
  poolId: string
  /** The host the ports are published on (provisioning.host). */
  host: string
  ports: ReadonlyArray<{ host: number, container: number }>
  /** Names of the variables the container gets; their values reach the CLI through its environment, never its argv. */
  envKeys: readonly string[]
  mount: { source: string, target: string }
  /** GPU ids, or null on CPU. */
  gpus: readonly number[] | null
  /** Runtime flags before the image (`--shm-size`). */
  extra?: readonly string[]
  image: string
  engineArgs: readonly string[]
}

/** The `run` command line; `-e NAME` without a value makes the CLI read it from its environment, so no secret shows in `ps`. */
export function runArgs (s: RunSpec): string[] {
  const bind = s.host.includes(':') ? `[${s.host}]` : s.host
  return [
    'run', '--rm', '--name', s.name, '--label', `llama-orch.pool=${s.poolId}`,
    ...s.ports.flatMap((p) => ['-p', `${bind}:${p.host}:${p.container}`]),
    ...s.envKeys.flatMap((k) => ['-e', k]),
    '-v', `${s.mount.source}:${s.mount.target}:ro`,
    ...gpuFlags(s.runtime, s.gpus),
    ...(s.extra ?? []),
    s.image,
    ...s.engineArgs,
  ]
}

/**
 * The container's name: the pool and its host port. A pool's earlier container on the same
 * port (a crash, or a CLI killed before the container stopped) blocks that port and is removed
 * first; a reload's new container on another port leaves the one still serving alone.
 */
export const containerName = (poolId: string, hostPort: number): string => `llama-orch-${poolId}-${hostPort}`

/** Removes a leftover container of that name; true when there was one. Best effort: a failure here shows again at `run`. */
export async function removeStale (rt: ContainerRuntime, name: string, o: { env?: NodeJS.ProcessEnv } = {}): Promise<boolean> {
  const r = await capture(rt.path, ['rm', '-f', name], o.env ?? process.env).catch(() => ({ code: 1, out: '', err: '' }))
  return r.code === 0 && r.out.split('\n').some((l) => l.trim() === name)
}

/**
 * What the runtime CLI itself needs from our environment to reach its daemon or its config
 * (the pool manager gives an engine a whitelisted environment only). Never passed into the container.
 */
const RUNTIME_CLIENT_ENV = [
  'DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY',
  'CONTAINER_HOST', 'CONTAINER_CONNECTION', 'CONTAINER_SSHKEY',
  'CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF', 'REGISTRY_AUTH_FILE',
]

export function runtimeClientEnv (env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of RUNTIME_CLIENT_ENV) if (env[k] !== undefined) out[k] = env[k]!
  return out
}
