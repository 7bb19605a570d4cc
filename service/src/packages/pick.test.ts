import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Chosen, Demand, LateConflict, describeDemand, pickLevel } from './pick';
import { SockpitError } from '../errors';

const d = (name: string, specifier: string, matching: string[], by = 'requested', extras: string[] = []): Demand => ({ name, specifier, by, extras, matching });
const none = new Map<string, Demand[]>();
const avail = new Map<string, string[]>([['beta', ['1.2', '1.1', '1.0']]]);

test('picks the newest version satisfying every demand of the level, names in sorted order', () => {
  const chosen = new Map<string, Chosen>();
  const r = pickLevel(chosen, [d('zeta', '', ['3.0']), d('beta', '>=1.0', ['1.2', '1.1', '1.0']), d('beta', '<1.2', ['1.1', '1.0'], 'alpha==2.0')], none, avail);
  assert.deepEqual(r.added.map((c) => `${c.name}==${c.version}`), ['beta==1.1', 'zeta==3.0']);
  assert.equal(chosen.get('beta')?.demands.length, 2);
});

test('a name picked earlier must satisfy later demands, else a LateConflict naming both', () => {
  const chosen = new Map<string, Chosen>();
  pickLevel(chosen, [d('beta', '==1.0', ['1.0'])], none, avail);
  const ok = pickLevel(chosen, [d('beta', '>=1.0', ['1.2', '1.1', '1.0'], 'alpha==1.0')], none, avail);
  assert.deepEqual(ok.added, []);
  assert.throws(
    () => pickLevel(chosen, [d('beta', '>=1.1', ['1.2', '1.1'], 'alpha==2.0')], none, avail),
    (e: unknown) => e instanceof LateConflict && /beta==1\.0 \(requested\)/.test(e.message) && /beta>=1\.1 \(required by alpha==2\.0\)/.test(e.message),
  );
});

test('two different pins of one name in one level are a clear error', () => {
  assert.throws(
    () => pickLevel(new Map(), [d('alpha', '==1.0', ['1.0']), d('alpha', '==2.0', ['2.0'], 'x==1')], none, avail),
    (e: unknown) => e instanceof SockpitError && e.code === 'bad_request' && /alpha==1\.0 \(requested\), alpha==2\.0 \(required by x==1\)/.test(e.message),
  );
});

test('no matching version lists what is available', () => {
  assert.throws(() => pickLevel(new Map(), [d('beta', '>=5', [], 'alpha==2.0')], none, avail), /no version of beta satisfies beta>=5 \(required by alpha==2\.0\); available: 1\.2, 1\.1, 1\.0/);
  assert.throws(() => pickLevel(new Map(), [d('broken', '', [])], none, avail), /no distribution of broken was found/);
});

test('constraints learned from an earlier attempt apply when the name is picked', () => {
  const constraints = new Map([['beta', [d('beta', '<1.2', ['1.1', '1.0'], 'delta==1')]]]);
  const r = pickLevel(new Map(), [d('beta', '', ['1.2', '1.1', '1.0'])], constraints, avail);
  assert.equal(r.added[0].version, '1.1');
});

test('extras asked later extend a picked package once', () => {
  const chosen = new Map<string, Chosen>();
  pickLevel(chosen, [d('req', '', ['2.0'])], none, avail);
  const r = pickLevel(chosen, [d('req', '', ['2.0'], 'a==1', ['socks']), d('req', '', ['2.0'], 'b==1', ['socks'])], none, avail);
  assert.deepEqual(r.extended.map((x) => x.extras), [['socks']]);
  assert.deepEqual(pickLevel(chosen, [d('req', '', ['2.0'], 'c==1', ['socks'])], none, avail).extended, []);
});

test('describeDemand', () => {
  assert.equal(describeDemand(d('a', '', [])), 'a (any version) (requested)');
  assert.equal(describeDemand(d('a', '>=1', [], 'b==2')), 'a>=1 (required by b==2)');
});
