export interface Sample { name: string, labels: Record<string, string>, value: number }

/**
 * The samples of the wanted metric names in a Prometheus text exposition (names may hold
 * `:`, as llama.cpp's and vLLM's do). Comments and unknown names are skipped.
 */
export function promSamples (text: string, wanted: ReadonlySet<string>): Sample[] {
  const out: Sample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const brace = line.indexOf('{')
    const space = line.indexOf(' ')
    const nameEnd = brace !== -1 && brace < space ? brace : space
    if (nameEnd <= 0) continue
    const name = line.slice(0, nameEnd)
    if (!wanted.has(name)) continue
    const labels: Record<string, string> = {}
    let rest = line.slice(nameEnd)
    if (rest.startsWith('{')) {
      const close = rest.lastIndexOf('}')
      for (const m of rest.slice(1, close).matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!.replace(/\\(.)/g, '$1')
      rest = rest.slice(close + 1)
    }
    const value = Number(rest.trim().split(/\s+/)[0])
    if (!Number.isNaN(value)) out.push({ name, labels, value })
  }
  return out
}

/** The first sample of the first listed name that is present. */
export function firstValue (samples: Sample[], names: string[]): number | undefined {
  for (const n of names) {
    const s = samples.find((x) => x.name === n)
    if (s) return s.value
  }
  return undefined
}
