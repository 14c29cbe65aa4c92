#!/usr/bin/env node
// Checked before anything else is loaded: on an older Node.js the modules would fail to load with
// an error that says nothing about the version.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(
    `cairn: needs Node.js 20.19 or newer, and this is ${process.version}; README.md (Set-up) says how to install it\n`,
  );
  process.exit(2);
}

const { processIo } = await import('./io.js');
const { runCli } = await import('./program.js');
process.exitCode = await runCli(process.argv.slice(2), processIo());
