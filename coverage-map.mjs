// Each test counts coverage of its own unit's files only, so a unit cannot look covered
// merely because another unit's tests happened to load it. A unit is a plugin or extension
// folder, a library folder (lib/http-client, lib/adapter-kit), lib/'s loose files, or sdk/.
export default (testFile) => {
  const folder = /^(plugins|extensions|lib)\/([^/]+)\/test\//.exec(testFile)
  if (folder) return [`${folder[1]}/${folder[2]}/**/*.ts`]
  if (testFile.startsWith('lib/test/')) return ['lib/*.ts']
  if (testFile.startsWith('sdk/test/')) return ['sdk/**/*.ts']
  if (testFile.startsWith('core/')) return ['core/**/*.ts']
  return []
}
