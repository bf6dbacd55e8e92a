/** Decisions as pure state transitions, and the resolution of a state against hand-made version lists. */
import { describe, expect, it } from 'vitest';
import {
  configuredState,
  promote,
  type ResolvedDeployment,
  resolveDeployment,
  rollback,
  setChallengers,
  type VersionsOf,
  withdraw,
} from '../../src/deployments/decisions.js';
import type { Challenger, DeploymentState, ModelRef } from '../../src/deployments/state.js';
import type { RepositoryVersion } from '../../src/models/index.js';

const decision = { by: 'test@host', reason: 'the test decides' };

/** A repository holding these versions of each model, oldest first, as listVersions gives them. */
function repository(models: Record<string, readonly string[]>): VersionsOf {
  return (model) =>
    (models[model] ?? []).map(
      (version): RepositoryVersion => ({
        version,
        directory: `/models/${model}/${version}`,
        manifestStamp: 'stamp-1',
      }),
    );
}

const gbm = (version: string): ModelRef => ({ model: 'fraud-gbm', version });
const shadow: Challenger = { variant: 'mlp', mode: 'shadow', model: 'fraud-mlp', version: '1', share: 0.5 };
const canary: Challenger = {
  variant: 'forest',
  mode: 'canary',
  model: 'fraud-forest',
  version: '1',
  share: 0.1,
};

function stateWith(changes: Partial<DeploymentState> = {}): DeploymentState {
  return { ...configuredState('fraud-gbm', gbm('latest'), []), ...changes };
}

/** Freezes a state all the way down, so a transition that mutates its input throws. */
function frozen(state: DeploymentState): DeploymentState {
  for (const value of Object.values(state))
    if (typeof value === 'object' && value !== null) deepFreeze(value);
  return Object.freeze(state);
}

function deepFreeze(value: object): void {
  for (const inner of Object.values(value))
    if (typeof inner === 'object' && inner !== null) deepFreeze(inner);
  Object.freeze(value);
}

const served = (resolved: ResolvedDeployment) => ({
  champion: `${resolved.champion.model}@${resolved.champion.version}`,
  standby: resolved.standby && `${resolved.standby.model}@${resolved.standby.version}`,
});

describe('the configured state', () => {
  it('is revision 0, decided by the configuration, with nothing refused and no previous champion', () => {
    const state = configuredState('fraud-gbm', gbm('latest'), [shadow]);
    expect(state).toMatchObject({
      deployment: 'fraud-gbm',
      revision: 0,
      based_on: 0,
      action: 'initial',
      decided_by: 'configuration',
      champion: gbm('latest'),
      previous: null,
      challengers: [shadow],
      refused: [],
      figures: {},
    });
  });
});

describe('resolving a state against the repository', () => {
  const versions = repository({ 'fraud-gbm': ['1', '2', '3', '4'], 'fraud-mlp': ['1'] });

  it('serves the highest version for latest, skipping refused ones, with the next lower one as standby', () => {
    expect(served(resolveDeployment(stateWith(), versions))).toEqual({
      champion: 'fraud-gbm@4',
      standby: 'fraud-gbm@3',
    });
    const refused = stateWith({ refused: ['fraud-gbm@4', 'fraud-gbm@3'] });
    expect(served(resolveDeployment(refused, versions))).toEqual({
      champion: 'fraud-gbm@2',
      standby: 'fraud-gbm@1',
    });
  });

  it('takes the directory and manifest time of the version it resolves to from the repository', () => {
    expect(resolveDeployment(stateWith(), versions).champion).toEqual({
      model: 'fraud-gbm',
      version: '4',
      directory: '/models/fraud-gbm/4',
      manifestStamp: 'stamp-1',
    });
  });

  it('serves a pinned version even below the latest, with the highest version below it as standby', () => {
    expect(served(resolveDeployment(stateWith({ champion: gbm('3') }), versions))).toEqual({
      champion: 'fraud-gbm@3',
      standby: 'fraud-gbm@2',
    });
  });

  it('skips refused versions when it picks the standby below the champion', () => {
    const state = stateWith({ refused: ['fraud-gbm@3', 'fraud-gbm@2'] });
    expect(served(resolveDeployment(state, versions))).toEqual({
      champion: 'fraud-gbm@4',
      standby: 'fraud-gbm@1',
    });
  });

  it('has no standby when no version below the champion may serve', () => {
    expect(resolveDeployment(stateWith({ champion: gbm('1') }), versions).standby).toBeUndefined();
    const everyOtherRefused = stateWith({ refused: ['fraud-gbm@1', 'fraud-gbm@2', 'fraud-gbm@3'] });
    expect(resolveDeployment(everyOtherRefused, versions).standby).toBeUndefined();
  });

  it('takes the previous champion as standby when it is set and not refused, even of another model', () => {
    const afterPromotion = stateWith({ champion: { model: 'fraud-mlp', version: '1' }, previous: gbm('2') });
    expect(served(resolveDeployment(afterPromotion, versions))).toEqual({
      champion: 'fraud-mlp@1',
      standby: 'fraud-gbm@2',
    });
    const previousRefused = stateWith({ previous: gbm('2'), refused: ['fraud-gbm@2'] });
    expect(served(resolveDeployment(previousRefused, versions))).toEqual({
      champion: 'fraud-gbm@4',
      standby: 'fraud-gbm@3',
    });
  });

  it('refuses to resolve when there is no version to serve', () => {
    expect(() => resolveDeployment(stateWith({ champion: gbm('9') }), versions)).toThrow(
      expect.objectContaining({ code: 'MODEL_MANIFEST_INVALID' }),
    );
    const allRefused = stateWith({ refused: ['fraud-gbm@1', 'fraud-gbm@2', 'fraud-gbm@3', 'fraud-gbm@4'] });
    expect(() => resolveDeployment(allRefused, versions)).toThrow(/no version latest of model fraud-gbm/);
  });

  it('resolves the challengers the repository holds, and leaves out the ones it does not', () => {
    const missing: Challenger = { ...shadow, variant: 'mlp2', version: '7' };
    const resolved = resolveDeployment(stateWith({ challengers: [shadow, missing] }), versions);
    expect(resolved.challengers).toEqual([
      { ...shadow, directory: '/models/fraud-mlp/1', manifestStamp: 'stamp-1' },
    ]);
  });
});

describe('a rollback', () => {
  const versions = repository({ 'fraud-gbm': ['1', '2', '3'], 'fraud-mlp': ['1'] });

  it('on a latest champion stays latest and refuses the version that served, so the standby serves', () => {
    const current = frozen(stateWith({ revision: 4, based_on: 3 }));
    const next = rollback(current, resolveDeployment(current, versions), decision);
    expect(next).toMatchObject({
      action: 'rollback',
      revision: 5,
      based_on: 4,
      champion: gbm('latest'),
      previous: null,
      refused: ['fraud-gbm@3'],
      decided_by: 'test@host',
      reason: 'the test decides',
    });
    expect(served(resolveDeployment(next, versions)).champion).toBe('fraud-gbm@2');
  });

  it('on a pinned champion pins the standby', () => {
    const current = frozen(stateWith({ champion: gbm('2') }));
    const next = rollback(current, resolveDeployment(current, versions), decision);
    expect(next).toMatchObject({ champion: gbm('1'), previous: null, refused: ['fraud-gbm@2'] });
  });

  it('after a promotion pins the previous champion and refuses the promoted one', () => {
    const current = frozen(stateWith({ champion: { model: 'fraud-mlp', version: '1' }, previous: gbm('3') }));
    const next = rollback(current, resolveDeployment(current, versions), decision);
    expect(next).toMatchObject({ champion: gbm('3'), previous: null, refused: ['fraud-mlp@1'] });
  });

  it('adds the version it rolls back from to those refused before, once', () => {
    const current = frozen(stateWith({ refused: ['fraud-gbm@3'] }));
    expect(rollback(current, resolveDeployment(current, versions), decision).refused).toEqual([
      'fraud-gbm@3',
      'fraud-gbm@2',
    ]);
    // A pinned version serves even when refused; rolling back from it does not refuse it twice.
    const pinnedRefused = frozen(stateWith({ champion: gbm('2'), refused: ['fraud-gbm@2'] }));
    expect(rollback(pinnedRefused, resolveDeployment(pinnedRefused, versions), decision).refused).toEqual([
      'fraud-gbm@2',
    ]);
  });

  it('is refused when there is nothing to return to', () => {
    const current = frozen(stateWith({ champion: gbm('1') }));
    expect(() => rollback(current, resolveDeployment(current, versions), decision)).toThrow(
      expect.objectContaining({
        code: 'DECISION_REFUSED',
        message: expect.stringMatching(/no previous version/),
      }),
    );
  });
});

describe('a promotion', () => {
  const versions = repository({ 'fraud-gbm': ['1', '2'], 'fraud-mlp': ['1'], 'fraud-forest': ['1'] });

  it('makes the challenger the champion and the concrete serving champion the previous one', () => {
    const current = frozen(
      stateWith({ challengers: [shadow, canary], refused: ['fraud-mlp@1', 'fraud-gbm@9'] }),
    );
    const next = promote(current, resolveDeployment(current, versions), 'mlp', decision);
    expect(next).toMatchObject({
      action: 'promote',
      revision: 1,
      based_on: 0,
      champion: { model: 'fraud-mlp', version: '1' },
      previous: gbm('2'),
      challengers: [canary],
      refused: ['fraud-gbm@9'],
    });
    expect(served(resolveDeployment(next, versions))).toEqual({
      champion: 'fraud-mlp@1',
      standby: 'fraud-gbm@2',
    });
  });

  it('is refused for a variant that is not a challenger', () => {
    const current = frozen(stateWith({ challengers: [shadow] }));
    expect(() => promote(current, resolveDeployment(current, versions), 'forest', decision)).toThrow(
      expect.objectContaining({ code: 'DECISION_REFUSED' }),
    );
  });
});

describe('withdrawing a challenger', () => {
  it('takes it out and refuses its version, as a rollback unless told otherwise', () => {
    const current = frozen(stateWith({ challengers: [shadow, canary] }));
    const next = withdraw(current, 'forest', decision);
    expect(next).toMatchObject({
      action: 'rollback',
      revision: 1,
      based_on: 0,
      champion: gbm('latest'),
      challengers: [shadow],
      refused: ['fraud-forest@1'],
    });
    const automatic = withdraw(
      current,
      'forest',
      { ...decision, figures: { errorRate: 0.2 } },
      'auto-rollback',
    );
    expect(automatic).toMatchObject({ action: 'auto-rollback', figures: { errorRate: 0.2 } });
  });

  it('is refused for a variant that is not a challenger', () => {
    expect(() => withdraw(frozen(stateWith()), 'mlp', decision)).toThrow(
      expect.objectContaining({ code: 'DECISION_REFUSED' }),
    );
  });
});

describe('setting the challengers', () => {
  it('replaces them, and an empty list ends every experiment', () => {
    const current = frozen(stateWith({ challengers: [shadow] }));
    const next = setChallengers(current, [canary], decision);
    expect(next).toMatchObject({ action: 'challengers', revision: 1, based_on: 0, challengers: [canary] });
    expect(setChallengers(next, [], decision).challengers).toEqual([]);
  });

  it('refuses two challengers with one variant name', () => {
    expect(() =>
      setChallengers(frozen(stateWith()), [shadow, { ...canary, variant: 'mlp' }], decision),
    ).toThrow(
      expect.objectContaining({
        code: 'DECISION_REFUSED',
        message: expect.stringMatching(/share a variant/),
      }),
    );
  });

  it('refuses canary shares that add up to more than 1, whatever the shadows take', () => {
    const canaries = (...shares: number[]) =>
      shares.map((share, index): Challenger => ({ ...canary, variant: `canary-${index}`, share }));
    expect(() => setChallengers(frozen(stateWith()), canaries(0.6, 0.5), decision)).toThrow(
      expect.objectContaining({
        code: 'DECISION_REFUSED',
        message: expect.stringMatching(/canary shares add up to 1.1 .*at most 1/),
      }),
    );
    const shadows = [shadow, { ...shadow, variant: 'mlp-full', share: 1 }];
    expect(
      setChallengers(frozen(stateWith()), [...shadows, ...canaries(0.5, 0.5)], decision).challengers,
    ).toHaveLength(4);
  });

  it('accepts canary shares that add up to exactly 1 in decimals, whatever the floating-point sum', () => {
    const canaries = [0.34, 0.56, 0.1].map(
      (share, index): Challenger => ({ ...canary, variant: `canary-${index}`, share }),
    );
    expect(setChallengers(frozen(stateWith()), canaries, decision).challengers).toEqual(canaries);
  });
});

describe('a chain of decisions', () => {
  it('advances revision and based_on by one per decision, stamping who decided and when', () => {
    const versions = repository({ 'fraud-gbm': ['1', '2'], 'fraud-mlp': ['1'] });
    const before = Date.now();
    const first = setChallengers(frozen(stateWith()), [shadow], decision);
    const second = promote(frozen(first), resolveDeployment(first, versions), 'mlp', decision);
    const third = rollback(frozen(second), resolveDeployment(second, versions), {
      by: 'operator',
      reason: 'scores drifted',
    });
    expect([first, second, third].map(({ revision, based_on }) => [revision, based_on])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
    expect(third).toMatchObject({ decided_by: 'operator', reason: 'scores drifted', champion: gbm('2') });
    expect(third.decided_at).toBeGreaterThanOrEqual(before);
    expect(third.decided_at).toBeLessThanOrEqual(Date.now());
  });
});
