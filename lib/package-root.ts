import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ORC_ERR_PACKAGE_ROOT } from './errors.js'

// Sources run from the repository (under tap) and from dist/ (installed): the
// package root is found by walking up to our own package.json, not by a fixed depth.
function findRoot (start: string): string {
  let dir = start
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }
      if (pkg.name === 'llama-orch') return dir
    } catch { /* no package.json here: keep walking */ }
    const parent = dirname(dir)
    if (parent === dir) throw new ORC_ERR_PACKAGE_ROOT(start)
    dir = parent
  }
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)))

export const PACKAGE_VERSION: string =
  (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version

export function fromRoot (...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts)
}
