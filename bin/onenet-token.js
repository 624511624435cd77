#!/usr/bin/env node
'use strict';
// Signs a OneNET MQTT login token; see `onenet-token --help`. Compiled code lives in ../nodes.
require('../nodes/token-cli/cli.js')
  .main(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    nowSeconds: () => Math.floor(Date.now() / 1000),
  })
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error) => {
    process.stderr.write(`onenet-token: ${error && error.message ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
