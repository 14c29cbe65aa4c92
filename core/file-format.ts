/**
 * The formats Cairn understands. Structured formats are parsed, validated and merged key by key when
 * an environment overlays them; `text` and `bytes` are carried as they are and replaced whole.
 */
export type FileFormat = 'yaml' | 'json' | 'properties' | 'ini' | 'toml' | 'text';

const FORMAT_BY_EXTENSION: ReadonlyMap<string, FileFormat> = new Map([
  ['.yaml', 'yaml'],
  ['.yml', 'yaml'],
  ['.json', 'json'],
  ['.properties', 'properties'],
  ['.ini', 'ini'],
  ['.toml', 'toml'],
]);

/** The format of a file, decided by its extension alone so every part of Cairn agrees on it. */
export function formatOf(path: string): FileFormat {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'text';
  return FORMAT_BY_EXTENSION.get(name.slice(dot).toLowerCase()) ?? 'text';
}

export function isStructured(format: FileFormat): boolean {
  return format !== 'text';
}
