/**
 * A worker thread of `check --jobs N` (cli/stream.ts drives it): it parses the files it is
 * given for their names, keeping their ASTs within its share of the budget, then analyses the
 * components it is given one at a time and answers with their findings, placed.
 */
import { parentPort } from 'node:worker_threads';
import { parse } from '@iommu-lens/grammar';
import { buildModel, WorkspaceNames } from '../model';
import { simulate } from '../sim';
import { analyseComponent, AstCache, scanFile, type WorkerAnswer, type WorkerRequest, type WorkerSetup } from './stream';

export function isWorkerSetup(data: unknown): data is WorkerSetup {
  return typeof data === 'object' && data !== null && (data as WorkerSetup).iommuLensWorker === true;
}

export function serveWorker(setup: WorkerSetup): void {
  const stages = { parse, buildModel, simulate };
  const cache = new AstCache(setup.budget);
  let names = new WorkspaceNames([]);
  parentPort!.on('message', (r: WorkerRequest) => {
    let answer: WorkerAnswer = null;
    if (r.kind === 'scan') answer = r.texts.map((t) => scanFile(t, setup.options, stages, cache));
    else if (r.kind === 'names') names = new WorkspaceNames(r.names);
    else answer = analyseComponent(r.files, names, setup.options, stages, cache);
    parentPort!.postMessage(answer);
  });
}
