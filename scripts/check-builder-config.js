#!/usr/bin/env node
// `npm run check:builder`: validates electron-builder.yml offline, with electron-builder's own loader and schema
// (the same checks `electron-builder` runs before it downloads anything), plus the package.json metadata a deb
// needs. Exits 1 and prints every problem on an invalid configuration.

const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
// app-builder-lib and builder-util come with electron-builder: resolve them from there
const fromBuilder = (id) => require(require.resolve(id, { paths: [path.dirname(require.resolve('electron-builder/package.json'))] }));

async function main() {
  const { getConfig, validateConfiguration } = fromBuilder('app-builder-lib/out/util/config/config');
  const { DebugLogger } = fromBuilder('builder-util');
  const configFile = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'electron-builder.yml');
  if (!fs.existsSync(configFile)) throw new Error(`${configFile} does not exist`);
  const config = await getConfig(root, configFile, null);
  await validateConfiguration(config, new DebugLogger(false));

  const problems = [];
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  if (config.npmRebuild !== false) problems.push('npmRebuild must be false (no native rebuild against Electron here)');
  if (!pkg.description) problems.push('package.json: description is required (deb)');
  const author = typeof pkg.author === 'string' ? pkg.author : pkg.author && `${pkg.author.name} <${pkg.author.email}>`;
  if (!author || !/<[^>]+@[^>]+>/.test(author)) problems.push('package.json: author with an email is required (deb maintainer)');
  if (!pkg.homepage) problems.push('package.json: homepage is required (deb)');
  const main = (config.extraMetadata && config.extraMetadata.main) || pkg.main;
  if (main !== 'dist/main/electron/main.js') problems.push(`the app's main must be dist/main/electron/main.js, not ${main}`);
  const targets = ((config.linux && config.linux.target) || []).map((t) => (typeof t === 'string' ? t : t.target));
  for (const t of ['AppImage', 'deb', 'dir']) if (!targets.includes(t)) problems.push(`linux.target lacks ${t}`);
  if (problems.length) throw Object.assign(new Error(problems.join('\n  ')), { name: 'InvalidConfigurationError' });
  console.log(`electron-builder configuration valid: ${path.relative(root, configFile)} (linux: ${targets.join(', ')})`);
}

main().catch((err) => {
  console.error(`check:builder: ${err.name === 'InvalidConfigurationError' ? 'invalid configuration:\n  ' : ''}${err.message}`);
  process.exit(1);
});
