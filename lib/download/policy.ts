/** The deployment's outbound-network policy (D6, ORCH-3080/3206), shared by the model and engine provisioners. */
export interface OutboundPolicy {
  allow_outbound_network: boolean
  outbound_allowlist: string[]
}

/** True when `host` is an allowlist entry or a subdomain of one (`huggingface.co` allows `cdn-lfs.huggingface.co`). */
export function hostAllowed (host: string, allowlist: string[]): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return allowlist.some((entry) => {
    const e = entry.toLowerCase().replace(/^\[|\]$/g, '')
    return h === e || h.endsWith(`.${e}`)
  })
}

/**
 * The one outbound-network gate: every download, and every redirect it follows, asks here
 * first. Null when `host` may be reached, else why not, naming the setting that allows it.
 */
export function outboundRefusal (policy: OutboundPolicy, host: string, what: string): string | null {
  if (!policy.allow_outbound_network) {
    return `${what} needs a download from ${host}, and policy.allow_outbound_network is false; ` +
      'set policy.allow_outbound_network: true in the manifest to allow it, or stage the file yourself and use a file: ref'
  }
  if (policy.outbound_allowlist.length > 0 && !hostAllowed(host, policy.outbound_allowlist)) {
    return `${what} needs a download from ${host}, which is not in policy.outbound_allowlist (${policy.outbound_allowlist.join(', ')}); ` +
      'add it there to allow it'
  }
  return null
}
