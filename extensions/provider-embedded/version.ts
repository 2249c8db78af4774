/** The engine's version stamp and digest, shared by the provisioner and the worker's `build_info`. */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let version: string | undefined
/** `node-llama-cpp-<version>+llama.cpp-<tag>`, read from the installed package (no binary load). */
export function engineVersion (): string {
  if (version !== undefined) return version
  const root = dirname(dirname(fileURLToPath(import.meta.resolve('node-llama-cpp'))))
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
  const info = JSON.parse(readFileSync(join(root, 'llama', 'llama.cpp.info.json'), 'utf8')) as { tag: string }
  version = `node-llama-cpp-${pkg.version}+llama.cpp-${info.tag}`
  return version
}

/** Where npm puts the prebuilt addon for this platform, or null when that package is absent. */
export function addonPath (): string | null {
  const target = `${process.platform}-${process.arch}`
  try {
    return join(dirname(dirname(fileURLToPath(import.meta.resolve(`@node-llama-cpp/${target}`)))), 'bins', target, 'llama-addon.node')
  } catch {
    return null
  }
}

let addonDigest: string | null | undefined
/** sha256 of the prebuilt addon for this platform, or null when it is not where npm puts it. */
export function engineDigest (): string | null {
  if (addonDigest !== undefined) return addonDigest
  const path = addonPath()
  try {
    addonDigest = path === null ? null : `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`
  } catch {
    addonDigest = null
  }
  return addonDigest
}
