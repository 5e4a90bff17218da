"""An MCP server (Streamable HTTP, the official MCP Python SDK) that accepts Gatehouse access
tokens through the gatehouse_auth kit. It has one tool, whoami, which needs scope mcp:tools and
returns the token's sub and scope.

    python server.py --addr 127.0.0.1:8000 --issuer http://127.0.0.1:8080 [--resource http://127.0.0.1:8000/mcp]

It serves MCP at /mcp and the RFC 9728 protected-resource metadata at
/.well-known/oauth-protected-resource/mcp (and at the root well-known path), and prints
"listening on http://HOST:PORT/mcp" once ready.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from typing import TypedDict

import uvicorn
from mcp.server.mcpserver import MCPServer

from gatehouse_auth import Verifier
from gatehouse_auth.mcp import TokenVerifier, auth_settings, principal, protect

SCOPE = "mcp:tools"


class WhoAmI(TypedDict):
    sub: str  # the token's subject (the user id)
    scope: str  # the token's granted scopes, space-separated


def build(issuer: str, resource: str, host: str):
    """The ASGI app: the SDK's Streamable HTTP app behind the kit's guard."""
    v = Verifier(issuer, resource, scopes_supported=[SCOPE], resource_name="Gatehouse example MCP server (Python)")
    server = MCPServer("gatehouse-example-py", token_verifier=TokenVerifier(v), auth=auth_settings(v, SCOPE))

    @server.tool(description="Returns the subject and scopes of the access token this call was made with.")
    async def whoami() -> WhoAmI:
        # The guard in front of /mcp already required mcp:tools; the tool checks again so that
        # it stays safe if it is ever mounted elsewhere.
        p = principal()
        if p is None or not p.has_scope(SCOPE):
            raise PermissionError(f"whoami needs scope {SCOPE}")
        return {"sub": p.subject, "scope": p.scope}

    return protect(server.streamable_http_app(host=host), v, SCOPE, path="/mcp")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--addr", default="127.0.0.1:8000", help="listen address HOST:PORT (port 0 picks a free one)")
    ap.add_argument("--issuer", default=os.environ.get("GATEHOUSE_ISSUER", ""),
                    help="Gatehouse's public URL, the tokens' iss (or GATEHOUSE_ISSUER)")
    ap.add_argument("--resource", default="",
                    help="this server's resource URI, as registered in Gatehouse (default http://HOST:PORT/mcp)")
    args = ap.parse_args()
    if not args.issuer:
        print("mcp-server-py: --issuer is required", file=sys.stderr)
        return 1
    host, sep, port = args.addr.rpartition(":")
    if not sep or not port.isdigit():
        print(f"mcp-server-py: --addr {args.addr!r} is not HOST:PORT", file=sys.stderr)
        return 1
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(128)
    shown = host or "localhost"
    if ":" in shown:
        shown = f"[{shown}]"
    base = f"http://{shown}:{sock.getsockname()[1]}"
    try:
        app = build(args.issuer, args.resource or base + "/mcp", host or "localhost")
    except ValueError as err:
        print(f"mcp-server-py: {err}", file=sys.stderr)
        return 1

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    # The socket listens already: connections wait in its backlog until uvicorn (after the
    # app's startup) accepts them, so "listening" is true from here on.
    print(f"listening on {base}/mcp", flush=True)
    asyncio.run(server.serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
