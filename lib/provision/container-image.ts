/**
 * An image reference as `provisioning.container.{image,tag}` gives it (spec pools §2.2, §5.3):
 * the repository, the registry it is pulled from (the host the outbound gate asks about) and
 * the tag or digest that pins it. `image` may carry its own tag or digest
 * (`vllm/vllm-openai:v0.10.1`, `…@sha256:…`); a `tag` of the form `sha256:<hex>` pins by digest.
 */
import { DIGEST_PATTERN } from '../../sdk/pool-config.js'

export interface ImageRef {
  /** The repository as written, without tag or digest (`vllm/vllm-openai`, `ghcr.io/org/x`). */
  name: string
  /** Registry host without port; `docker.io` when the name has no registry part. */
  registry: string
  tag: string | null
  /** `sha256:<hex>` when pinned by digest (pull by digest, spec §2.6). */
  digest: string | null
  /** True when neither a tag nor a digest was given and `latest` was assumed (not reproducible). */
  defaultedTag: boolean
  /** What `pull` and `image inspect` are given: `name@digest` or `name:tag`. */
  reference: string
}

const DIGEST = new RegExp(DIGEST_PATTERN)

/** The tag or digest written into `image` itself, and the rest. */
function split (image: string): { name: string, tag: string | null, digest: string | null } {
  const at = image.indexOf('@')
  const withTag = at >= 0 ? image.slice(0, at) : image
  const digest = at >= 0 ? image.slice(at + 1) : null
  const slash = withTag.lastIndexOf('/')
  const colon = withTag.lastIndexOf(':')
  // a colon before the last slash is a registry port (localhost:5000/x), not a tag
  return colon > slash ? { name: withTag.slice(0, colon), tag: withTag.slice(colon + 1), digest } : { name: withTag, tag: null, digest }
}

/** Docker's rule: the first path segment is a registry when it has a dot or a port, or is `localhost`. */
export function registryHostOf (name: string): string {
  const slash = name.indexOf('/')
  if (slash < 0) return 'docker.io'
  const first = name.slice(0, slash)
  if (!(first.includes('.') || first.includes(':') || first === 'localhost')) return 'docker.io'
  return first.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
}

/** `image` and `tag` from the pool's config; `tag` wins over one written into `image`. */
export function parseImage (image: string, tag?: string | null): ImageRef {
  const own = split(image)
  const pinned = tag != null && DIGEST.test(tag) ? tag : own.digest
  const named = tag != null && !DIGEST.test(tag) ? tag : own.tag
  const defaultedTag = pinned === null && named === null
  const finalTag = pinned === null ? (named ?? 'latest') : named
  return {
    name: own.name,
    registry: registryHostOf(own.name),
    tag: finalTag,
    digest: pinned,
    defaultedTag,
    reference: pinned !== null ? `${own.name}@${pinned}` : `${own.name}:${finalTag!}`,
  }
}

/** `docker.io/library/x`, `library/x` and `x` name the same repository. */
export function sameRepository (a: string, b: string): boolean {
  const norm = (n: string): string => n.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '')
  return norm(a) === norm(b)
}

/** Whether a tag and a digest given both in `image` and in `tag` contradict each other (config check). */
export function doublyTagged (image: string, tag?: string | null): boolean {
  const own = split(image)
  if (tag == null) return false
  return DIGEST.test(tag) ? own.digest !== null && own.digest !== tag : own.tag !== null && own.tag !== tag
}
