/**
 * The model gate (ORCH-3421 gate 1): the model is present locally and, when a digest is
 * expected, verified. The model provisioner (`app.models.ensurePresent`, catalog issue) does
 * this when it is there; until then `resolveLocalModel` handles `file:` and relative refs.
 * Replace the fallback by deleting it once `app.models` always exists.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { isAbsolute, relative, resolve } from 'node:path'

export interface ResolvedModel { id: string, local_path: string }

/** The part of the model provisioner (spec pools §3.1) the gate needs. */
export interface ModelProvisionerLike {
  ensurePresent (ref: string, expectedDigest?: string): Promise<ResolvedModel>
}

export type ModelGate = (ref: string, expectedDigest?: string | null) => Promise<ResolvedModel>

export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return `sha256:${hash.digest('hex')}`
}

/**
 * `file:/abs/path` is used in place (it must be absolute, D8); a relative path resolves
 * against the model cache root and may not climb out of it; other schemes need the model
 * provisioner. A configured digest is checked against the file's real sha256 (D17).
 */
export async function resolveLocalModel (ref: string, cacheRoot: string, expectedDigest?: string | null): Promise<ResolvedModel> {
  let path: string
  if (ref.startsWith('file:')) {
    path = ref.slice('file:'.length)
    if (!isAbsolute(path)) throw new Error(`model ref "${ref}": a file: ref must be an absolute path (file:/abs/model.gguf)`)
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(ref) && !/^[a-z]:[\\/]/i.test(ref)) {
    throw new Error(`model ref "${ref}": fetching ${ref.split(':')[0]}: refs needs the model provisioner, which is not enabled; use a file: ref or a path under ${cacheRoot}`)
  } else {
    path = resolve(cacheRoot, ref)
    const rel = relative(cacheRoot, path)
    if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`model ref "${ref}" escapes the model cache root ${cacheRoot}; use a file: ref for files elsewhere`)
  }
  const info = await stat(path).catch(() => undefined)
  if (!info?.isFile()) throw new Error(`model file ${path} does not exist; generate the tiny model with \`llama-orch model tiny --out ${path}\` or fix the model ref`)
  if (expectedDigest) {
    const actual = await sha256File(path)
    if (actual !== expectedDigest) throw new Error(`model file ${path} has digest ${actual}, but ${expectedDigest} is expected; the file is not the one configured`)
  }
  return { id: `file:${path}`, local_path: path }
}

/** The gate: the model provisioner when the app has one, else the local fallback. */
export function createModelGate (provisioner: () => ModelProvisionerLike | undefined, cacheRoot: string): ModelGate {
  return async (ref, digest) => {
    const models = provisioner()
    if (models !== undefined) return models.ensurePresent(ref, digest ?? undefined)
    return resolveLocalModel(ref, cacheRoot, digest)
  }
}
