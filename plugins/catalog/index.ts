import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { NAMES } from '../../core/names.js'
import type { CatalogConfig } from './schema.js'

/**
 * The catalog stage. What exists today is its configuration; the versioned model and
 * engine indexes (spec pools-provisioning-catalog.md §4) are built by the catalog issue.
 */
export interface Catalog {
  /** Absolute catalog root: index.json, engines.json and staged artifacts live below it. */
  readonly root: string
  readonly trustPolicy: CatalogConfig['trust_policy']
}

declare module 'fastify' {
  interface FastifyInstance { catalog: Catalog }
}

export function catalogRoot (config: Partial<CatalogConfig>): string {
  return resolve(config.root ?? join(homedir(), '.cache', 'models'))
}

const catalogPlugin: FastifyPluginAsync<Partial<CatalogConfig>> = async (app, opts) => {
  app.decorate('catalog', { root: catalogRoot(opts), trustPolicy: opts.trust_policy ?? null })
}

export default fp(catalogPlugin, {
  name: NAMES.catalog,
  fastify: '5.x',
  dependencies: [NAMES.narration, NAMES.metrics],
  decorators: { fastify: ['narration', 'metrics'] },
})
