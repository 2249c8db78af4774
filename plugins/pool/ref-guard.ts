/**
 * The check a model ref passes before anything reads, hashes or registers it (issue 10 #1).
 * Refs a client sends (`POST /v1/pools/{id}/reload`) are confined: a local path must resolve,
 * symlinks followed, under the catalog root or one of `catalog.model_dirs`. The pool's own
 * configured ref is the operator's and may point anywhere. Either way a file its engine cannot
 * load (wrong magic) is refused before the catalog sees it. Remote refs (hf:, https://, s3://,
 * oci://) are staged under the catalog root by the model provisioner, so they pass here.
 */
import { resolvesInside } from '../../lib/catalog-store/model-dirs.js'
import type { ModelRef } from '../../lib/catalog-store/model-ref.js'
import { notAModel } from './model-file.js'

export interface RefGuardDeps {
  parse: (ref: string) => ModelRef
  /** The catalog root. */
  root: string
  /** `catalog.model_dirs`: further directories API refs may resolve into. */
  dirs: readonly string[]
  engine: string
}

/** Resolves with why `ref` is refused (a sentence naming no file content), or null when it may be used. */
export type RefGuard = (ref: string, o: { confined: boolean }) => Promise<string | null>

export function createRefGuard (deps: RefGuardDeps): RefGuard {
  const allowed = [deps.root, ...deps.dirs]
  const where = `under the catalog root ${deps.root}${deps.dirs.length > 0
    ? ` or under catalog.model_dirs (${deps.dirs.join(', ')})`
    : ' (add further directories to catalog.model_dirs)'}`
  return async (ref, o) => {
    let parsed: ModelRef
    try { parsed = deps.parse(ref) } catch (err) { return (err as Error).message }
    if (parsed.scheme !== 'file') return null
    if (o.confined && !(await resolvesInside(parsed.path, allowed))) {
      return `"${ref}" resolves (symlinks followed) outside the model directories; a model ref sent over the API must lie ${where}`
    }
    const why = await notAModel(parsed.path, deps.engine)
    return why === null ? null : `"${ref}" ${why}`
  }
}
