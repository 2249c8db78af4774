/**
 * One container engine as a built-in provider extension: the descriptor `config check` reads
 * (handles, no options, the pool checks) and the plugin that registers the provisioner with
 * the deployment policy, narration and the engine catalog. The vLLM, TGI and Triton
 * extensions differ only in their ContainerEngine.
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { EXTENSION_API, type ExtensionDescriptor } from '../../sdk/index.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import { NAMES } from '../names.js'
import { containerPoolIssues, createContainerProvisioner, type ContainerEngine } from './container-provider.js'

type Issue = ReturnType<NonNullable<ExtensionDescriptor['checkPool']>>[number]

export interface ContainerExtension {
  engine: ContainerEngine
  /** The fp plugin name (NAMES.provider…). */
  name: string
  handles: ReadonlyArray<{ engine: string, mode: 'container' }>
  description: string
  /** Pool checks of this engine beyond the common container ones. */
  extraIssues?: (pool: PoolConfig) => Issue[]
}

export function containerExtension (c: ContainerExtension): { extension: ExtensionDescriptor, plugin: FastifyPluginAsync } {
  const extension: ExtensionDescriptor = {
    kind: 'provisioner',
    apiVersion: EXTENSION_API,
    optionsSchema: Type.Object({}, { additionalProperties: false }),
    handles: [...c.handles],
    checkPool: (pool) => [...containerPoolIssues(pool, c.engine), ...(c.extraIssues?.(pool) ?? [])],
    description: c.description,
  }
  const provider: FastifyPluginAsync = async (app) => {
    app.provisioners.add(createContainerProvisioner(c.engine, {
      policy: app.provisioners.policy,
      narrate: (pool) => (action, human, fields, level) =>
        app.narration.narrate({ actor: 'engine-provisioner', action, target: pool.id, engine: c.engine.engine, ...fields }, human, level),
      registerEngine: (build) => app.provisioners.recordEngine(build),
    }))
  }
  const plugin = fp(provider, { name: c.name, fastify: '5.x', dependencies: [NAMES.provisioners], decorators: { fastify: ['provisioners', 'narration'] } })
  return { extension, plugin }
}
