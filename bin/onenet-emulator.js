#!/usr/bin/env node
'use strict';
// The OneNET emulator on the command line; see docs/emulator.md. Compiled code lives in ../nodes.
require('../nodes/emulator/cli.js')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((error) => {
    process.stderr.write(`onenet-emulator: ${error && error.message ? error.message : String(error)}\n`);
    process.exit(1);
  });
