import createError from '@fastify/error'
import { formatIssues, type Issue } from '../lib/validation.js'

/**
 * A config file (or an extension's options) failed validation. It carries every
 * problem found, as `path: message` lines, so one run shows them all.
 */
export class ManifestError extends Error {
  readonly code = 'ORC_ERR_MANIFEST_INVALID'
  readonly statusCode = 500
  readonly issues: Issue[]
  readonly source: string

  constructor (source: string, issues: Issue[]) {
    const lines = formatIssues(issues)
    super(`llama-orch: ${source} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`)
    this.name = 'ManifestError'
    this.issues = issues
    this.source = source
  }

  get lines (): string[] {
    return formatIssues(this.issues)
  }
}

export const ORC_ERR_MANIFEST_READ = createError<[string, string]>(
  'ORC_ERR_MANIFEST_READ',
  'llama-orch: cannot read the manifest %s: %s',
  500
)

export const ORC_ERR_BOOT_ORDER = createError<[string, string]>(
  'ORC_ERR_BOOT_ORDER',
  'llama-orch: plugin %s was registered before %s; register the stages in the order of core/names.ts BOOT_ORDER',
  500
)

/** A command line the CLI cannot run: it prints the message and the usage, and exits with 2. */
export const ORC_ERR_CLI_USAGE = createError<[string]>('ORC_ERR_CLI_USAGE', '%s', 400)

export const ORC_ERR_README_MARKERS = createError<[string, string]>(
  'ORC_ERR_README_MARKERS',
  'README.md needs the markers %s and %s; put them back around the generated configuration reference, then run npm run gen',
  500
)
