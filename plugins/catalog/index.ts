import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { NAMES } from '../../lib/names.js'
import type { CatalogConfig } from './schema.js'
import { CatalogStore } from '../../lib/catalog-store/store.js'
import { createCatalog, type Catalog } from './catalog.js'

declare module 'fastify' {
  interface FastifyInstance { catalog: Catalog }
}

export function catalogRoot (config: Partial<CatalogConfig>): string {
  return resolve(config.root ?? join(homedir(), '.cache', 'models'))
}

/**
 * The catalog stage: opens the versioned model and engine indexes under the root (a file
 * with an unknown schema_version stops the boot, untouched), clears what a killed writer
 * left, decorates `app.catalog`, keeps `model_state{model_id,state}` equal to the lifecycle
 * of the entries it reports (at most the contract's model_id budget, see model-state.ts), and
 * notices changes made by other processes (the CLI) within a second.
 */
const catalogPlugin: FastifyPluginAsync<Partial<CatalogConfig>> = async (app, opts) => {
  const store = new CatalogStore(catalogRoot(opts)).open()
  // a server killed mid-write left lock records and temp copies: clear them before serving (issue 10 #5)
  const leftovers = await store.recover()
  if (leftovers.length > 0) {
    app.narration.narrate(
      { actor: 'catalog', action: 'recover', target: store.root, removed: leftovers.length },
      `removes ${leftovers.length} file(s) a killed writer left in the catalog`
    )
  }
  const catalog = createCatalog(store, {
    trustPolicy: opts.trust_policy ?? null,
    metrics: app.metrics,
    narrate: app.narration.narrate.bind(app.narration),
  })
  app.decorate('catalog', catalog)
  const timer = setInterval(() => { try { store.poll() } catch (err) { app.log.warn({ err }, 'catalog index could not be re-read') } }, 1000)
  timer.unref()
  app.addHook('onClose', async () => { clearInterval(timer); catalog.close() })
}

export default fp(catalogPlugin, {
  name: NAMES.catalog,
  fastify: '5.x',
  dependencies: [NAMES.narration, NAMES.metrics],
  decorators: { fastify: ['narration', 'metrics'] },
})

export type { Catalog } from './catalog.js'
export type { CatalogConfig, FetchConfig } from './schema.js'
export type { VerificationCounter } from './service.js'
export { CatalogStore } from '../../lib/catalog-store/store.js'
export { CatalogError, RefError, isCatalogError } from '../../lib/catalog-store/errors.js'
export { parseRef, refId, localPathFor, parseDigest, verifyDigest, isInside, type ModelRef } from '../../lib/catalog-store/model-ref.js'
export type { ModelEntry, EngineEntry, Lifecycle, ResolvedModel, CatalogEvent } from '../../lib/catalog-store/entries.js'
export { engineEntryId, LIFECYCLES } from '../../lib/catalog-store/entries.js'
