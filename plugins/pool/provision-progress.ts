/**
 * A provider's progress as narration (issue 12 #5): one line when a step starts and one at each
 * quarter of a counted step (ninja's build steps, download bytes), so a first build that takes
 * minutes says what it is doing without a line per compiled file.
 */
import type { ProvisionProgress } from '../../sdk/index.js'
import type { Narrate } from './manager.js'

export function provisionProgress (poolId: string, narrate: Narrate): (p: ProvisionProgress) => void {
  let step = ''
  let quarter = 0
  return (p) => {
    if (p.step !== step) {
      step = p.step
      quarter = 0
      narrate({ actor: 'pool-managerd', action: 'provision', target: poolId, step: p.step }, `pool ${poolId} provisions its engine: ${p.step}`)
      return
    }
    if (!p.total || p.done === undefined) return
    const q = Math.floor((p.done / p.total) * 4)
    if (q <= quarter || q >= 4) return
    quarter = q
    narrate({ actor: 'pool-managerd', action: 'provision', target: poolId, step: p.step, done: p.done, total: p.total },
      `pool ${poolId} provisions its engine: ${p.step} ${q * 25}%`)
  }
}
