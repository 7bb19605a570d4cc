#!/usr/bin/env node
// The `sockpit` command: runs the compiled CLI (npm run build compiles it into dist/).
require('../dist/service/src/cli/main.js');
