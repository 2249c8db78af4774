/** One frame of a task's event log, read back from its SSE text (`id: …\nevent: …\ndata: …\n\n`). */
export interface TaskFrame { event: string, data: Record<string, unknown> }

export function parseFrame (text: string): TaskFrame {
  const e = text.indexOf('\nevent: ')
  const d = text.indexOf('\ndata: ', e + 1)
  const end = text.endsWith('\n\n') ? text.length - 2 : text.length
  return { event: text.slice(e + 8, d), data: JSON.parse(text.slice(d + 7, end)) as Record<string, unknown> }
}
