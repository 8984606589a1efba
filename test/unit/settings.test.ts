/**
 * The user's settings in the engine: severity per code, and the checks left out while
 * typing (their findings stay as of the last full run in every component without an
 * edit). Uses seed 001 (its timelines engine finds the BME quirk) beside seed 002.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL_ENGINES, CODES, DOMAINS, ENGINE_IDS } from '../../server/src/domains';
import { AnalysisHost, applySeverities, parseSeverityOverrides, type Analysis } from '../../server/src/ide';
import { MAX_FILE_SIZE_CAP, readSettings } from '../../server/src/lsp/settings';
import { exampleFiles, uri } from '../helpers';
import { resultOf } from '../../server/src/sim';
import { TIMELINES_ENGINE } from '../../server/src/domains/timelines/engine';

const STOCK = uri('seed-001-tdisp-sev-tio/timelines/stock-driver.iommu');
const PF_RESET = uri('seed-001-tdisp-sev-tio/timelines/pf-reset.iommu');
/** Another component: seed 002's hosts share nothing with seed 001's. */
const EVACUATE = uri('seed-002-arm-msi-migration/timelines/evacuate-vm-db.iommu');

function seedHost(): AnalysisHost {
  const host = new AnalysisHost(DOMAINS);
  for (const seed of ['seed-001-tdisp-sev-tio', 'seed-002-arm-msi-migration']) {
    for (const f of exampleFiles(seed)) host.setFile(f.uri, f.text);
  }
  return host;
}

const codesIn = (a: Analysis, u: string) => (a.findings.get(u) ?? []).map((f) => f.code);
const every = (a: Analysis) =>
  [...a.findings.values()]
    .flat()
    .map((f) => `${f.uri}:${f.span.start}:${f.code}`)
    .sort();

describe('checks left out while typing', () => {
  test('each engine reports only its own findings, and all of them together are the full run', () => {
    const a = seedHost().analyze();
    assert.deepEqual([...a.sim.engines], [...ENGINE_IDS]);
    assert.ok(a.sim.byEngine.get('timelines')!.some((f) => f.code === 'tdisp-bme-quirk'));
    assert.ok(!a.sim.byEngine.get('vfio')!.some((f) => f.code.startsWith('tdisp-')));
    const only = seedHost().analyze(undefined, new Set(['vfio']));
    assert.deepEqual([...only.sim.byEngine.keys()], ['vfio']);
    assert.equal(resultOf(only.sim, TIMELINES_ENGINE).size, 0, 'timelines were not replayed');
    assert.equal(only.findings.get(STOCK)!.length, 0, 'no full run yet: nothing to carry');
  });

  test('a left-out engine still counts in components unchanged since a full run, not in the edited one, and is back on a full run', () => {
    const host = seedHost();
    const full = host.analyze();
    const typing = new Set(['vfio', 'pools'] as const);
    assert.deepEqual(every(host.analyze(undefined, typing)), every(full), 'nothing changed: the same findings');

    const text = host.text(STOCK)!;
    // Inside the timeline: the declaration, not the file, is the unit an edit touches.
    const end = text.lastIndexOf('}');
    host.setFile(STOCK, `${text.slice(0, end)}  // an edit\n${text.slice(end)}`);
    const edited = host.analyze(undefined, typing);
    assert.ok(
      !codesIn(edited, STOCK).includes('tdisp-bme-quirk'),
      'the edited component loses its timeline findings until the next full run',
    );
    assert.ok(!codesIn(edited, PF_RESET).includes('tdisp-vf-reset'), 'in every file of that component: they may depend on the edit');
    assert.ok(codesIn(full, EVACUATE).includes('ram-over-reserved'));
    assert.deepEqual(codesIn(edited, EVACUATE), codesIn(full, EVACUATE), 'another component keeps them');
    assert.ok(resultOf(edited.sim, TIMELINES_ENGINE).size > 0, 'and its timelines stay replayed for hovers');
    assert.ok(codesIn(host.analyze(), STOCK).includes('tdisp-bme-quirk'), 'a full run finds them again');
  });
});

describe('severity per code', () => {
  test('overrides change the severity, off hides the code, the rest keep their defaults', () => {
    const host = seedHost();
    const before = host.analyze();
    assert.equal(before.findings.get(STOCK)!.find((f) => f.code === 'tdisp-bme-quirk')!.severity, 'error');
    host.setOptions({
      maxFileSize: 1 << 20,
      severity: new Map([
        ['tdisp-bme-quirk', 'warning'],
        ['tdisp-avoidable-access', 'off'],
      ]),
    });
    const after = host.analyze();
    assert.equal(after.findings.get(STOCK)!.find((f) => f.code === 'tdisp-bme-quirk')!.severity, 'warning');
    assert.ok(!codesIn(after, STOCK).includes('tdisp-avoidable-access'));
    assert.ok(codesIn(before, STOCK).includes('tdisp-avoidable-access'));
    const otherBefore = before.findings.get(PF_RESET)!.map((f) => `${f.code}:${f.severity}`);
    assert.deepEqual(
      after.findings.get(PF_RESET)!.map((f) => `${f.code}:${f.severity}`),
      otherBefore,
    );
  });

  test('unknown codes and levels are problems, not silently dropped', () => {
    const r = parseSeverityOverrides(
      [
        ['ram-overlap', 'hint'],
        ['ram-overlaps', 'error'],
        ['zero-size', 'fatal'],
      ],
      CODES,
    );
    assert.deepEqual([...r.overrides], [['ram-overlap', 'hint']]);
    assert.equal(r.problems.length, 2);
    assert.match(r.problems[0]!, /unknown diagnostic code 'ram-overlaps'/);
    assert.match(r.problems[1]!, /'zero-size' must be one of error, warning, information, hint, off/);
    assert.deepEqual(applySeverities([], r.overrides), []);
  });
});

describe('readSettings', () => {
  test('defaults for what is missing', () => {
    const { settings, problems } = readSettings(undefined);
    assert.deepEqual(problems, []);
    assert.equal(settings.debounceMs, 120);
    assert.equal(settings.logLevel, 'info');
    assert.equal(settings.checksWhileTyping, ALL_ENGINES);
    assert.equal(settings.severity.size, 0);
  });

  test('the shape VS Code sends, and bad values reported with the default kept', () => {
    const { settings, problems } = readSettings({
      maxFileSize: 4096,
      debounceMs: -3,
      logLevel: 'verbose',
      checksWhileTyping: ['vfio', 'firmware', 'spelling'],
      diagnostics: { severity: { 'msi-window-missing': 'off' } },
    });
    assert.equal(settings.maxFileSize, 4096);
    assert.equal(settings.debounceMs, 120);
    assert.equal(settings.logLevel, 'info');
    assert.deepEqual([...settings.checksWhileTyping], ['vfio', 'firmware']);
    assert.deepEqual([...settings.severity], [['msi-window-missing', 'off']]);
    assert.deepEqual(
      problems.map((p) => p.split(' ')[0]),
      ['iommuLens.checksWhileTyping:', 'iommuLens.logLevel', 'iommuLens.debounceMs'],
    );
  });

  test("a workspace cannot raise the file size limit past the cap, nor the debounce past the manifest's maximum", () => {
    const { settings, problems } = readSettings({ maxFileSize: 1e15, debounceMs: 1e9 });
    assert.equal(settings.maxFileSize, MAX_FILE_SIZE_CAP);
    assert.equal(settings.debounceMs, 5000);
    assert.deepEqual(problems, [
      `iommuLens.maxFileSize is at most ${MAX_FILE_SIZE_CAP}, not 1000000000000000; using ${MAX_FILE_SIZE_CAP}`,
      'iommuLens.debounceMs is at most 5000, not 1000000000; using 5000',
    ]);
    assert.equal(readSettings({ maxFileSize: MAX_FILE_SIZE_CAP }).settings.maxFileSize, MAX_FILE_SIZE_CAP);
  });
});
