/** Small helpers the step files share: JSON paths, literals, placeholders, metric samples. */
import assert from 'node:assert/strict'
import type { OrchWorld } from '../world.js'

/** `a.b.0.c` into a JSON value; undefined when a segment is missing. */
export function at (value: unknown, path: string): unknown {
  let v: any = value
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined
    v = v[k]
  }
  return v
}

/** A step's literal: JSON when it parses (`"x"`, `2`, `true`, `null`), else the text itself. */
export function literal (text: string): unknown {
  try { return JSON.parse(text) } catch { return text }
}

/** `$task(A)` → A's task id, `$session(A)` → A's session id, in paths and values. */
export function expand (world: OrchWorld, text: string): string {
  return text.replace(/\$(task|session)\(([^)]+)\)/g, (_m, kind: string, name: string) => {
    const t = world.task(name)
    return kind === 'task' ? t.id : t.sessionId
  })
}

export function list (text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean)
}

/** `k=v,k2=v2` */
export function labels (text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of list(text ?? '')) {
    const i = pair.indexOf('=')
    assert.ok(i > 0, `label "${pair}" is not k=v`)
    out[pair.slice(0, i)] = pair.slice(i + 1)
  }
  return out
}

/** The sum of a metric's samples (exact name, no _bucket/_sum suffixes) whose labels include `want`. */
export function metricValue (text: string, name: string, want: Record<string, string>): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line)
    if (!m || m[1] !== name) continue
    const got: Record<string, string> = {}
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[l[1]!] = l[2]!
    if (Object.entries(want).every(([k, v]) => got[k] === v)) sum += Number(m[4])
  }
  return sum
}
