// The official MCP TypeScript SDK's client against examples/mcp-server-go (the official MCP Go SDK
// guarded by the Go resource-server kit): see example-interop.mjs.
import { exampleInterop } from './example-interop.mjs';

exampleInterop('mcp-server-go');
