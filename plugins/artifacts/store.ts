import { link, mkdir, open, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { fsyncDir, tempNameFor } from '../../lib/atomic.js'
import { canonicalSha256 } from '../../lib/canonical.js'

export const ARTIFACT_KINDS = ['plan', 'summary', 'diff', 'trace', 'other'] as const
export type ArtifactKind = typeof ARTIFACT_KINDS[number]

export interface ArtifactInput {
  kind: ArtifactKind
  content: Record<string, unknown>
  tags?: string[]
  parent?: string
  metadata?: Record<string, unknown>
}

/** `POST /v1/artifacts` answer (OC-CTRL-2065). */
export interface ArtifactRef { id: string, kind: ArtifactKind, digest: string, created_ms: number, tags: string[] }

export interface Artifact extends ArtifactRef {
  content: Record<string, unknown>
  parent?: string
  metadata?: Record<string, unknown>
}

/** Content-addressed artifact storage (api-and-core §3.4): same content, same id, first `created_ms` kept. */
export interface ArtifactStore {
  readonly kind: 'fs' | 'memory'
  put (input: ArtifactInput): Promise<ArtifactRef>
  get (id: string): Promise<Artifact | undefined>
}

export const ARTIFACT_ID = /^sha256:([0-9a-f]{64})$/

/** `sha256:` + sha256 of the RFC 8785 canonical JSON of `{kind, content, tags, parent, metadata}`. */
export function artifactId (input: ArtifactInput): string {
  const { kind, content, tags = [], parent, metadata } = input
  return `sha256:${canonicalSha256({ kind, content, tags, parent, metadata })}`
}

function build (input: ArtifactInput, now: number): Artifact {
  const id = artifactId(input)
  return {
    id,
    digest: id,
    kind: input.kind,
    created_ms: now,
    tags: input.tags ?? [],
    content: input.content,
    ...(input.parent !== undefined ? { parent: input.parent } : {}),
    ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
  }
}

export const refOf = (a: Artifact): ArtifactRef => ({ id: a.id, kind: a.kind, digest: a.digest, created_ms: a.created_ms, tags: a.tags })

export function memoryArtifactStore (now: () => number = Date.now): ArtifactStore {
  const byId = new Map<string, Artifact>()
  return {
    kind: 'memory',
    async put (input) {
      const a = build(input, now())
      if (!byId.has(a.id)) byId.set(a.id, a)
      return refOf(byId.get(a.id)!)
    },
    async get (id) { return byId.get(id) },
  }
}

/**
 * One file per artifact, `<root>/<hex>`, created with link(2) from a fsynced temp file: the
 * file appears whole or not at all, and when two writers race the first one wins, so its
 * `created_ms` is the one kept.
 */
export function fsArtifactStore (root: string, now: () => number = Date.now): ArtifactStore {
  const fileOf = (id: string): string | null => {
    const hex = ARTIFACT_ID.exec(id)?.[1]
    return hex === undefined ? null : join(root, hex)
  }
  const read = async (file: string): Promise<Artifact | undefined> => {
    try { return JSON.parse(await readFile(file, 'utf8')) as Artifact } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }
  return {
    kind: 'fs',
    async put (input) {
      const a = build(input, now())
      const file = fileOf(a.id)!
      const existing = await read(file)
      if (existing) return refOf(existing)
      await mkdir(root, { recursive: true })
      const temp = tempNameFor(file)
      const fd = await open(temp, 'wx', 0o644)
      try {
        await fd.writeFile(`${JSON.stringify(a)}\n`)
        await fd.sync()
      } finally { await fd.close() }
      try {
        await link(temp, file)
        await fsyncDir(root)
        return refOf(a)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        return refOf((await read(file))!)
      } finally {
        await unlink(temp).catch(() => {})
      }
    },
    async get (id) {
      const file = fileOf(id)
      return file === null ? undefined : read(file)
    },
  }
}
