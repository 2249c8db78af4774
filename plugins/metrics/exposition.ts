/** A parsed Prometheus text exposition (format 0.0.4); metric names may contain `:`. */
export interface Sample { name: string, labels: Record<string, string>, value: number }
export interface Exposition {
  /** family name → declared type, from `# TYPE` lines */
  types: Map<string, string>
  samples: Sample[]
  /** lines that could not be parsed, with their 1-based line number */
  errors: string[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/

export function parseExposition (text: string): Exposition {
  const out: Exposition = { types: new Map(), samples: [], errors: [] }
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    if (line.length === 0) return
    if (line.startsWith('#')) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)\s*$/.exec(line)
      if (m) out.types.set(m[1]!, m[2]!)
      return
    }
    const sample = parseSample(line)
    if (sample) out.samples.push(sample)
    else out.errors.push(`line ${index + 1}: cannot parse "${line.slice(0, 120)}"`)
  })
  return out
}

function parseSample (line: string): Sample | undefined {
  const name = METRIC_NAME.exec(line)?.[0]
  if (!name) return undefined
  let rest = line.slice(name.length)
  const labels: Record<string, string> = {}
  if (rest.startsWith('{')) {
    rest = rest.slice(1)
    for (;;) {
      rest = rest.trimStart()
      if (rest.startsWith('}')) { rest = rest.slice(1); break }
      const label = LABEL_NAME.exec(rest)?.[0]
      if (!label) return undefined
      rest = rest.slice(label.length).trimStart()
      if (!rest.startsWith('="')) return undefined
      const parsed = readQuoted(rest.slice(2))
      if (!parsed) return undefined
      labels[label] = parsed.value
      rest = parsed.rest.trimStart()
      if (rest.startsWith(',')) rest = rest.slice(1)
      else if (!rest.startsWith('}')) return undefined
    }
  }
  const fields = rest.trim().split(/\s+/)
  if (fields.length < 1 || fields.length > 2 || fields[0] === '') return undefined
  const value = parseValue(fields[0]!)
  return Number.isNaN(value) && fields[0] !== 'NaN' ? undefined : { name, labels, value }
}

function readQuoted (s: string): { value: string, rest: string } | undefined {
  let value = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '"') return { value, rest: s.slice(i + 1) }
    if (c === '\\') {
      const next = s[++i]
      if (next === 'n') value += '\n'
      else if (next === '\\' || next === '"') value += next
      else return undefined
    } else {
      value += c
    }
  }
  return undefined
}

function parseValue (v: string): number {
  if (v === '+Inf') return Infinity
  if (v === '-Inf') return -Infinity
  return Number(v)
}

const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created']

/** The family a sample belongs to: its own name when typed, else its name minus a histogram/counter suffix. */
export function familyOf (sampleName: string, types: Map<string, string>): string {
  if (types.has(sampleName)) return sampleName
  for (const suffix of SUFFIXES) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length)
      if (types.has(base)) return base
    }
  }
  return sampleName
}
