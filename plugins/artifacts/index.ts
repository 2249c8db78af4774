import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { NAMES } from '../../lib/names.js'
import type { CatalogConfig } from '../catalog/index.js'
import { fsArtifactStore, memoryArtifactStore, type ArtifactStore } from './store.js'

export interface Artifacts extends ArtifactStore {
  /** Where the fs store writes (null for the memory store). */
  readonly root: string | null
  /** Body limit of `POST /v1/artifacts`. */
  readonly bodyLimit: number
}

declare module 'fastify' {
  interface FastifyInstance { artifacts: Artifacts }
}

export function artifactsRoot (config: Partial<CatalogConfig>): string {
  return resolve(config.artifacts_root ?? join(homedir(), '.cache', 'llama-orch', 'artifacts'))
}

/**
 * Content-addressed JSON artifacts (api-and-core §3.4): task transcripts (`trace`, written by
 * the data plane at stream end through `app.artifacts.put`), plans, summaries and diffs.
 * Nothing is created on disk until the first put.
 */
const artifactsPlugin: FastifyPluginAsync<Partial<CatalogConfig>> = async (app, opts) => {
  const memory = opts.artifacts_store === 'memory'
  const root = memory ? null : artifactsRoot(opts)
  const store = root === null ? memoryArtifactStore() : fsArtifactStore(root)
  app.decorate('artifacts', {
    kind: store.kind,
    root,
    bodyLimit: opts.artifacts_body_limit_bytes ?? 10_485_760,
    put: (input) => store.put(input),
    get: (id) => store.get(id),
  })
}

export default fp(artifactsPlugin, {
  name: NAMES.artifacts,
  fastify: '5.x',
})

export { artifactId, ARTIFACT_KINDS, type Artifact, type ArtifactRef, type ArtifactInput, type ArtifactKind } from './store.js'
