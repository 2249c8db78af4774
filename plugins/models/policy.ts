import { ModelError } from './errors.js'
import { outboundRefusal, type OutboundPolicy } from '../../lib/download/policy.js'

export { hostAllowed, type OutboundPolicy } from '../../lib/download/policy.js'

/** The outbound gate as the model provisioner throws it: PolicyDenied at once, naming the setting. */
export function assertOutbound (policy: OutboundPolicy, host: string, what: string): void {
  const refused = outboundRefusal(policy, host, what)
  if (refused !== null) throw new ModelError('PolicyDenied', refused, { host })
}
