export * from './codes';
export * from './findings';
export * from './interval';
export * from './numbers';
export * from './types';
export * from './versions';
export { buildModel, type ParsedFile, type ModelResult } from './resolve';
export { fileNames, WorkspaceNames, type FileNames } from './workspaceNames';
export { inDeclarationOrder, mergeModels } from './merge';
