/**
 * The model gate (ORCH-3421 gate 1) is the model provisioner (`app.models.ensurePresent`):
 * the model is present locally, verified against the configured digest, and registered in
 * the catalog. A model the catalog holds as Retired does not pass: retiring it is how an
 * operator takes it out of service (spec pools §4.7). Before that, the ref guard refuses a
 * client's ref outside the model directories and a file the engine cannot load (issue 10 #1),
 * so neither is hashed nor registered; the reload route checked it already, the gate checks
 * again because the file may have changed since.
 */
import type { ResolvedModel } from '../../lib/catalog-store/entries.js'
import type { ModelProvisioner } from '../models/index.js'
import { ORC_ERR_POOL_MODEL_REFUSED, ORC_ERR_POOL_MODEL_RETIRED } from './errors.js'
import type { RefGuard } from './ref-guard.js'

export type { ResolvedModel }

export type ModelGate = (ref: string, expectedDigest?: string | null, o?: { confined?: boolean }) => Promise<ResolvedModel>

export function createModelGate (models: Pick<ModelProvisioner, 'ensurePresent'>, engine: string, guard?: RefGuard): ModelGate {
  return async (ref, digest, o = {}) => {
    const refused = guard ? await guard(ref, { confined: o.confined === true }) : null
    if (refused !== null) throw new ORC_ERR_POOL_MODEL_REFUSED(refused)
    const model = await models.ensurePresent(ref, digest, { engine })
    if (model.lifecycle === 'Retired') {
      throw new ORC_ERR_POOL_MODEL_RETIRED(model.id)
    }
    return model
  }
}
