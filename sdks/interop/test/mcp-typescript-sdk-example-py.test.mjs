// The official MCP TypeScript SDK's client against examples/mcp-server-py (the official MCP Python
// SDK guarded by the Python resource-server kit): see example-interop.mjs.
import { exampleInterop } from './example-interop.mjs';

exampleInterop('mcp-server-py');
