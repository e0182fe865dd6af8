#!/usr/bin/env node
// The `convoflow` command. The repository ships TypeScript sources, so it runs the CLI through
// tsx's loader; see engine/src/cli/convoflow.ts for the commands.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../engine/src/cli/convoflow.ts');
process.exitCode = await main(process.argv.slice(2));
