/**
 * Where a model path really lies (issue 10 #1): model refs that arrive over the API may only
 * name files under the catalog root or an operator's allow-list of model directories. Both
 * sides are compared after `realpath`, so a symlink below the root that points elsewhere
 * resolves to where it points and is refused.
 */
import { realpath } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { isInside } from './model-ref.js'

/**
 * `realpath` of `path`, or, for a path that does not exist (yet), the realpath of its nearest
 * existing ancestor with the missing rest appended: a ref to a file not staged yet still
 * resolves through the symlinks of the folders above it.
 */
export async function realpathLoose (path: string): Promise<string> {
  const missing: string[] = []
  let cur = resolve(path)
  for (;;) {
    try {
      return join(await realpath(cur), ...missing)
    } catch {
      const parent = dirname(cur)
      if (parent === cur) return resolve(path)
      missing.unshift(basename(cur))
      cur = parent
    }
  }
}

/** True when `path`, symlinks followed, lies inside one of `dirs` (each also followed). */
export async function resolvesInside (path: string, dirs: readonly string[]): Promise<boolean> {
  const real = await realpathLoose(path)
  for (const d of dirs) if (isInside(await realpathLoose(d), real)) return true
  return false
}
