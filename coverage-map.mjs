// Each plugin's tests count coverage of that plugin's own files only, so a plugin
// cannot look covered merely because another plugin's tests happened to load it.
export default (testFile) => {
  const m = /^(plugins|providers)\/([^/]+)\//.exec(testFile)
  if (m) return [`${m[1]}/${m[2]}/**/*.ts`]
  if (testFile.startsWith('core/')) return ['core/**/*.ts']
  return []
}
