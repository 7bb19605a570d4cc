// Who runs the panel of a root `npm start`: never root.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { choosePanelUser, groupGid, PanelUser, panelUserEnv, parsePasswd } from './panel-user';

const PASSWD = `root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
ada:x:1000:1000:Ada,,,:/home/ada:/bin/bash
broken line
`;
const GROUP = `root:x:0:
sockpit:x:995:
ada:x:1000:
`;

test('the user who ran sudo, with the sockpit group as its only group', () => {
  const user = choosePanelUser({ SUDO_UID: '1000', SUDO_GID: '1000', SUDO_USER: 'ada' }, PASSWD, GROUP);
  assert.deepEqual(user, { name: 'ada', uid: 1000, gid: 995, home: '/home/ada', why: 'the user who ran sudo' });
});

test('a root login (no SUDO_UID, or sudo from root itself): nobody, never root', () => {
  for (const env of [{}, { SUDO_UID: '0' }, { SUDO_UID: 'x' }]) {
    const user = choosePanelUser(env, PASSWD, GROUP) as PanelUser;
    assert.equal(user.uid, 65534, JSON.stringify(env));
    assert.equal(user.gid, 995);
    assert.equal(user.home, '/nonexistent');
  }
});

test('a missing group or account is said, not worked around', () => {
  assert.match((choosePanelUser({}, PASSWD, 'root:x:0:\n') as { error: string }).error, /no `sockpit` group.*groupadd --system sockpit/);
  assert.match((choosePanelUser({}, 'root:x:0:0:root:/root:/bin/sh\n', GROUP) as { error: string }).error, /no `nobody` account/);
  // a sudo user missing from /etc/passwd (LDAP...): still that uid
  assert.equal((choosePanelUser({ SUDO_UID: '2000', SUDO_USER: 'far' }, PASSWD, GROUP) as PanelUser).uid, 2000);
});

test('parses passwd and group lines, skipping malformed ones', () => {
  assert.deepEqual(
    parsePasswd(PASSWD).map((u) => u.name),
    ['root', 'nobody', 'ada'],
  );
  assert.equal(groupGid(GROUP, 'sockpit'), 995);
  assert.equal(groupGid(GROUP, 'sock'), null);
});

test("the panel's environment: the user's home and own runtime dir, never root's", () => {
  const ada: PanelUser = { name: 'ada', uid: 1000, gid: 995, home: '/home/ada', why: '' };
  const rootEnv = { HOME: '/root', USER: 'root', XDG_RUNTIME_DIR: '/run/user/0', PATH: '/usr/bin', DISPLAY: ':0' };
  const env = panelUserEnv(ada, rootEnv, (dir) => dir === '/run/user/1000');
  assert.deepEqual(env, { HOME: '/home/ada', USER: 'ada', LOGNAME: 'ada', XDG_RUNTIME_DIR: '/run/user/1000', PATH: '/usr/bin', DISPLAY: ':0' });
  const none = panelUserEnv(ada, rootEnv, () => false);
  assert.equal(none.XDG_RUNTIME_DIR, undefined);
  assert.equal(rootEnv.XDG_RUNTIME_DIR, '/run/user/0');
});
