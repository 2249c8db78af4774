import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import type { Registry } from 'prom-client'
import { NAMES } from '../../lib/names.js'
import type { MetricsConfig } from './schema.js'
import { createContractRegistry } from './registry.js'
import type { ContractMetrics } from './contract.js'

export type Metrics = ContractMetrics & { readonly registry: Registry }

declare module 'fastify' {
  interface FastifyInstance { metrics: Metrics }
}

const metricsPlugin: FastifyPluginAsync<MetricsConfig> = async (app, opts) => {
  const { registry, metrics } = createContractRegistry(opts.buckets_ms)
  app.decorate('metrics', { ...metrics, registry })
  // Prometheus text format 0.0.4; public even when an API key gate is on (spec §1.3)
  app.get('/metrics', async (_req, reply) => {
    reply.type(registry.contentType)
    return registry.metrics()
  })
}

export default fp(metricsPlugin, {
  name: NAMES.metrics,
  fastify: '5.x',
  dependencies: [NAMES.narration],
  decorators: { fastify: ['narration'] },
})

export { CONTRACT_METRICS, LABEL_BUDGETS, contractDocument, readContract, contractProblems, type ContractMetrics, type MetricsContract } from './contract.js'
export { lintScrape, lintUrl, formatLintReport, type LintReport } from './lint.js'
