import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'

/** Streaming sha256 of one file (lowercase hex) and its size. */
export async function sha256File (path: string): Promise<{ hex: string, size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { hex: hash.digest('hex'), size }
}

export interface FileDigest { path: string, hex: string, size: number }

/**
 * Digest of a multi-file artifact (a Transformers repo, a Triton model repository): sha256
 * over the sorted lines `<file sha256>  <relative posix path>\n` (the `sha256sum` format),
 * so it does not depend on the order files were written or listed in.
 */
export function manifestDigest (files: FileDigest[]): string {
  const lines = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f) => `${f.hex}  ${f.path}\n`)
  return createHash('sha256').update(lines.join('')).digest('hex')
}

async function listFiles (dir: string, base = dir): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...await listFiles(p, base))
    else if (e.isFile()) out.push(relative(base, p).split(sep).join('/'))
  }
  return out
}

/** `sha256:<hex>` of a file, or of a directory by its manifest; plus the total size. */
export async function digestPath (path: string): Promise<{ digest: string, size_bytes: number, files?: FileDigest[] }> {
  const st = await stat(path)
  if (!st.isDirectory()) {
    const { hex, size } = await sha256File(path)
    return { digest: `sha256:${hex}`, size_bytes: size }
  }
  const files: FileDigest[] = []
  for (const rel of await listFiles(path)) files.push({ path: rel, ...await sha256File(join(path, ...rel.split('/'))) })
  return { digest: `sha256:${manifestDigest(files)}`, size_bytes: files.reduce((n, f) => n + f.size, 0), files }
}
