// (b) The tree view grows a node when a call needs a new Zygote: a function whose requirements.txt names a
// wheelhouse package is deployed and invoked, and the Zygotes view gets a node with that package.

import { expect, test } from '../fixtures';
import { TREE_PACKAGE, writeFunction } from '../env';

const PKG = `${TREE_PACKAGE.name}==${TREE_PACKAGE.version}`;

test('a call that needs a new Zygote grows the tree by a node with its package', async ({ env, functions, zygotes, client }) => {
  await functions.open(env.panelSignInUrl);
  await zygotes.showLoaded();
  const before = await zygotes.nodes.count();
  await expect(zygotes.node(PKG)).toHaveCount(0);

  const dir = writeFunction(env, 'withpkg', {
    'f.py': `import ${TREE_PACKAGE.name}\ndef f(event):\n    return ${TREE_PACKAGE.name}.GREETING\n`,
    'requirements.txt': `${PKG}\n`,
  });
  await functions.deploy('withpkg', dir);
  const tier = await functions.invoke('withpkg', 'null');
  expect(tier).toBe('zygote');
  await expect(functions.result).toContainText('hello from a Zygote');

  await zygotes.showLoaded();
  await expect(zygotes.node(PKG)).toHaveCount(1);
  await expect(zygotes.nodes).toHaveCount(Math.max(before, 1) + 1);
  // the service agrees
  expect((await client.zygotes()).some((z) => z.packages.join() === PKG)).toBe(true);
});
