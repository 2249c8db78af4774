import { existsSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { Dispatcher } from 'undici'
import { digestPath, manifestDigest, sha256File, type FileDigest } from '../../lib/digest.js'
import type { ModelRef } from '../../lib/catalog-store/model-ref.js'
import { download } from './download.js'
import { hfAuth, hfFileUrl, listRepo } from './hf.js'
import { ModelError } from './errors.js'
import type { OutboundPolicy } from './policy.js'
import { requireTool, runTool, type CommandRunner } from './tools.js'

/** What a fetcher leaves in the staging folder: a file or a folder, with its digest. */
export interface Staged { path: string, digest: string, size_bytes: number, source_url: string, revision?: string | null }

export interface FetchContext {
  ref: ModelRef
  /** The ref as the user wrote it (for messages). */
  what: string
  /** Private staging folder of this id, below the catalog root (same filesystem as the target). */
  stage: string
  /** Basename the staged file gets (single-file refs). */
  fileName: string
  policy: OutboundPolicy
  hfEndpoint: string
  hfCli: boolean
  idleTimeoutMs: number
  env: NodeJS.ProcessEnv
  runner: CommandRunner
  dispatcher?: Dispatcher
  signal: AbortSignal
  /** Bounded global concurrency: every file download runs inside a slot. */
  slot: <T>(fn: () => Promise<T>) => Promise<T>
  onBytes: (file: string, bytes: number, total: number | null) => void
}

/** Stages one URL as `<stage>/<fileName>.part`, resuming what an earlier run left. */
async function fetchFile (
  c: FetchContext,
  url: string,
  file: string,
  part: string,
  firstHostHeaders: Record<string, string> = {}
): Promise<{ hex: string, size: number }> {
  await mkdir(dirname(part), { recursive: true })
  return c.slot(() => download({
    url,
    part,
    policy: c.policy,
    what: c.what,
    firstHostHeaders,
    idleTimeoutMs: c.idleTimeoutMs,
    signal: c.signal,
    ...(c.dispatcher ? { dispatcher: c.dispatcher } : {}),
    onBytes: (done, total) => c.onBytes(file, done, total),
  }))
}

async function nativeSingle (c: FetchContext, url: string, headers?: Record<string, string>): Promise<Staged> {
  const part = join(c.stage, `${c.fileName}.part`)
  const d = await fetchFile(c, url, c.fileName, part, headers)
  return { path: part, digest: `sha256:${d.hex}`, size_bytes: d.size, source_url: url }
}

/** A whole hub repo, its files in parallel (ORCH-3435); finished files survive a crash and are not fetched again. */
async function nativeRepo (c: FetchContext, ref: Extract<ModelRef, { scheme: 'hf' }>): Promise<Staged> {
  const listing = await listRepo({
    endpoint: c.hfEndpoint,
    org: ref.org,
    repo: ref.repo,
    revision: ref.revision,
    policy: c.policy,
    what: c.what,
    signal: c.signal,
    timeoutMs: c.idleTimeoutMs,
    ...(c.dispatcher ? { dispatcher: c.dispatcher } : {}),
  })
  const tree = join(c.stage, 'tree')
  const abort = new AbortController()
  const onAbort = (): void => abort.abort(c.signal.reason)
  c.signal.addEventListener('abort', onAbort, { once: true })
  const sub: FetchContext = { ...c, signal: abort.signal }
  const results = await Promise.allSettled(listing.files.map(async (f): Promise<FileDigest> => {
    const dest = join(tree, ...f.split('/'))
    if (existsSync(dest)) return { path: f, ...await sha256File(dest) }
    const d = await fetchFile(sub, hfFileUrl(c.hfEndpoint, ref.org, ref.repo, ref.revision, f), f, `${dest}.part`, hfAuth(c.env))
    await rename(`${dest}.part`, dest)
    return { path: f, hex: d.hex, size: d.size }
  }).map((p) => p.catch((err: unknown) => { abort.abort(err); throw err })))
  c.signal.removeEventListener('abort', onAbort)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
  const files = results.map((r) => (r as PromiseFulfilledResult<FileDigest>).value)
  return {
    path: tree,
    digest: `sha256:${manifestDigest(files)}`,
    size_bytes: files.reduce((n, f) => n + f.size, 0),
    source_url: `${c.hfEndpoint}/${ref.org}/${ref.repo}`,
    revision: listing.sha,
  }
}

async function digestStaged (path: string, sourceUrl: string): Promise<Staged> {
  const d = await digestPath(path)
  return { path, digest: d.digest, size_bytes: d.size_bytes, source_url: sourceUrl }
}

/** `huggingface-cli download` with HF_HUB_ENABLE_HF_TRANSFER=1 (§3.4, decision 13). */
async function hfCli (c: FetchContext, ref: Extract<ModelRef, { scheme: 'hf' }>): Promise<Staged> {
  const cli = await requireTool(c.runner, 'huggingface-cli', c.what)
  const tree = join(c.stage, 'tree')
  const args = [
    'download', `${ref.org}/${ref.repo}`, ...(ref.path ? [ref.path] : []),
    '--revision', ref.revision, '--local-dir', tree, '--local-dir-use-symlinks', 'False',
  ]
  await c.slot(() => runTool(c.runner, cli, args, { ...c.env, HF_HUB_ENABLE_HF_TRANSFER: '1', HF_ENDPOINT: c.hfEndpoint }, c.what, c.signal))
  await rm(join(tree, '.cache'), { recursive: true, force: true })
  return digestStaged(ref.path ? join(tree, ...ref.path.split('/')) : tree, `${c.hfEndpoint}/${ref.org}/${ref.repo}`)
}

async function s3 (c: FetchContext, ref: Extract<ModelRef, { scheme: 's3' }>): Promise<Staged> {
  const aws = await requireTool(c.runner, 'aws', c.what)
  const recursive = ref.key.endsWith('/')
  const dest = recursive ? join(c.stage, 'tree') : join(c.stage, basename(ref.key))
  await c.slot(() => runTool(c.runner, aws, ['s3', 'cp', ref.url, dest, ...(recursive ? ['--recursive'] : []), '--only-show-errors'], c.env, c.what, c.signal))
  return digestStaged(dest, ref.url)
}

async function oci (c: FetchContext, ref: Extract<ModelRef, { scheme: 'oci' }>): Promise<Staged> {
  const oras = await requireTool(c.runner, 'oras', c.what)
  const dest = join(c.stage, 'tree')
  await mkdir(dest, { recursive: true })
  await c.slot(() => runTool(c.runner, oras, ['pull', `${ref.registry}/${ref.repository}:${ref.tag}`, '-o', dest], c.env, c.what, c.signal))
  return digestStaged(dest, ref.url)
}

/** Stages a network ref into `c.stage` by its scheme. */
export function stage (c: FetchContext): Promise<Staged> {
  const ref = c.ref
  switch (ref.scheme) {
    case 'hf':
      if (c.hfCli) return hfCli(c, ref)
      return ref.path ? nativeSingle(c, hfFileUrl(c.hfEndpoint, ref.org, ref.repo, ref.revision, ref.path), hfAuth(c.env)) : nativeRepo(c, ref)
    case 'https': return nativeSingle(c, ref.url)
    case 's3': return s3(c, ref)
    case 'oci': return oci(c, ref)
    case 'file': throw new ModelError('Unstageable', 'file: refs are used in place, never staged; resolve them with ensurePresent')
  }
}

/** The host a ref downloads from, for the outbound policy (checked before any tool runs). */
export function hostOf (ref: ModelRef, hfEndpoint: string, env: NodeJS.ProcessEnv): string {
  switch (ref.scheme) {
    case 'hf': return new URL(hfEndpoint).hostname
    case 'https': return new URL(ref.url).hostname
    case 's3': return env.AWS_ENDPOINT_URL ? new URL(env.AWS_ENDPOINT_URL).hostname : 's3.amazonaws.com'
    case 'oci': return ref.registry.replace(/:\d+$/, '')
    case 'file': return 'localhost'
  }
}
