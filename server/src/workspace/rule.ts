/**
 * The rule of which files make up a workspace, with no I/O: the walk of files.ts follows it
 * on disk, and the language server applies it to the uris an editor lists (a web worker has
 * no disk). Every file whose name ends in `.iommu`, except in `node_modules` (other
 * projects' files) and hidden directories (`.git`, `.vscode`, caches: a name starting with '.').
 */

/** A directory the walk does not enter: dependencies and hidden directories. */
export function isSkippedDirectory(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.');
}

/** A name the walk takes as a description. */
export function isDescriptionName(name: string): boolean {
  return name.endsWith('.iommu');
}

/** Whether a path below the root, as its names (directories, then the file), is one the rule takes. */
export function takesPath(parts: readonly string[]): boolean {
  return parts.length > 0 && isDescriptionName(parts.at(-1)!) && parts.slice(0, -1).every((p) => !isSkippedDirectory(p));
}

/**
 * Whether `uri` is a file of the folder `folderUri` by the rule (any scheme: file, vscode-vfs,
 * vscode-remote). The names are compared percent-decoded, as a file system names them; a uri
 * whose escapes do not decode is not taken.
 */
export function inFolderUri(folderUri: string, uri: string): boolean {
  const prefix = folderUri.endsWith('/') ? folderUri : `${folderUri}/`;
  if (!uri.startsWith(prefix) || /[?#]/.test(uri.slice(prefix.length))) return false;
  try {
    return takesPath(uri.slice(prefix.length).split('/').map(decodeURIComponent));
  } catch {
    return false;
  }
}
