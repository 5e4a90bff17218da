// Command mcp-server-go is an MCP server (Streamable HTTP, official MCP Go SDK) that accepts
// Gatehouse access tokens through the gatehouseauth kit. It has one tool, whoami, which needs
// scope mcp:tools and returns the token's sub and scope.
//
//	mcp-server-go --addr 127.0.0.1:8000 --issuer http://127.0.0.1:8080 [--resource http://127.0.0.1:8000/mcp]
//
// It serves MCP at /mcp and the RFC 9728 protected-resource metadata at
// /.well-known/oauth-protected-resource/mcp (and at the root well-known path), and prints
// "listening on http://HOST:PORT/mcp" once ready.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gatehouse/gatehouse/sdks/go/gatehouseauth"
	"github.com/gatehouse/gatehouse/sdks/go/gatehousemcp"
)

const scope = "mcp:tools"

// whoamiOut is what the whoami tool returns.
type whoamiOut struct {
	Sub   string `json:"sub" jsonschema:"the token's subject (the user id)"`
	Scope string `json:"scope" jsonschema:"the token's granted scopes, space-separated"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mcp-server-go:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address HOST:PORT (port 0 picks a free one)")
	issuer := flag.String("issuer", os.Getenv("GATEHOUSE_ISSUER"), "Gatehouse's public URL, the tokens' iss (or GATEHOUSE_ISSUER)")
	resource := flag.String("resource", "", "this server's resource URI, as registered in Gatehouse (default http://HOST:PORT/mcp)")
	flag.Parse()
	if *issuer == "" {
		return errors.New("--issuer is required")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if host == "" {
		host = "localhost"
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base := "http://" + net.JoinHostPort(host, port)
	if *resource == "" {
		*resource = base + "/mcp"
	}

	v, err := gatehouseauth.New(gatehouseauth.Config{
		Issuer:          *issuer,
		Resource:        *resource,
		ScopesSupported: []string{scope},
		ResourceName:    "Gatehouse example MCP server (Go)",
		Logger:          log,
	})
	if err != nil {
		return err
	}

	server := mcp.NewServer(&mcp.Implementation{Name: "gatehouse-example-go", Version: "0.1.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{
		Name:        "whoami",
		Description: "Returns the subject and scopes of the access token this call was made with.",
	}, whoami)

	mux := http.NewServeMux()
	v.HandleMetadata(mux)
	mux.Handle("/mcp", gatehousemcp.Protect(v,
		mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil), scope))

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("listening on %s/mcp\n", base)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	return nil
}

// whoami answers from the verified token. The /mcp middleware already required mcp:tools;
// the tool checks again so that it stays safe if it is ever mounted elsewhere.
func whoami(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, whoamiOut, error) {
	p, ok := gatehousemcp.Principal(req.Extra.TokenInfo)
	if !ok || !p.HasScope(scope) {
		return nil, whoamiOut{}, errors.New("whoami needs scope " + scope)
	}
	return nil, whoamiOut{Sub: p.Subject, Scope: p.Scope()}, nil
}
