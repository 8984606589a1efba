/**
 * How the editor shows each kind of name: its semantic token type, its outline icon and its
 * completion icon. The core's kinds are here; each domain gives its own kinds' looks in its
 * IDE contribution (`looks`). Icons are the names of LSP's SymbolKind and CompletionItemKind
 * members, which the lsp layer maps to their numbers.
 */

export const SEMANTIC_TOKEN_TYPES = [
  'namespace',
  'type',
  'class',
  'interface',
  'function',
  'variable',
  'property',
  'event',
  'enumMember',
  'keyword',
  'number',
  'operator',
  'comment',
] as const;
export type SemanticTokenType = (typeof SEMANTIC_TOKEN_TYPES)[number];

export type OutlineIcon =
  | 'Namespace'
  | 'Module'
  | 'Class'
  | 'Array'
  | 'Interface'
  | 'Event'
  | 'Function'
  | 'Object'
  | 'Variable'
  | 'Field'
  | 'Constant';
export type CompletionIcon = 'Module' | 'Class' | 'Interface' | 'Event' | 'Function' | 'Variable' | 'Field' | 'Constant' | 'EnumMember';

/** How one kind of name looks: as a token, in the outline, and (when completion offers its names) in completion. */
export interface KindLook {
  token: SemanticTokenType;
  outline: OutlineIcon;
  completion?: CompletionIcon;
}

/**
 * | symbol kind                 | token type | outline   | completion |
 * |-----------------------------|------------|-----------|------------|
 * | platform                    | namespace  | Namespace | Module     |
 * | guest                       | class      | Class     | Class      |
 * | iommu, viommu, iommufd      | interface  | Interface | Interface  |
 * | device                      | variable   | Object    | Variable   |
 * | ram, guest-ram              | property   | Field     |            |
 * | reserved                    | property   | Constant  |            |
 */
export const CORE_LOOKS: Readonly<
  Record<'platform' | 'guest' | 'device' | 'iommu' | 'ram' | 'reserved' | 'guest-ram' | 'viommu' | 'iommufd', KindLook>
> = {
  platform: { token: 'namespace', outline: 'Namespace', completion: 'Module' },
  guest: { token: 'class', outline: 'Class', completion: 'Class' },
  device: { token: 'variable', outline: 'Object', completion: 'Variable' },
  iommu: { token: 'interface', outline: 'Interface', completion: 'Interface' },
  ram: { token: 'property', outline: 'Field' },
  reserved: { token: 'property', outline: 'Constant' },
  'guest-ram': { token: 'property', outline: 'Field' },
  viommu: { token: 'interface', outline: 'Interface' },
  iommufd: { token: 'interface', outline: 'Interface' },
};
