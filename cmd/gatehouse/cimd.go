package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/cimd"
)

// metadataFetcher gives the authorization server the Client ID Metadata Documents that package
// cimd fetches and checks.
type metadataFetcher struct{ f *cimd.Fetcher }

// newCIMDFetcher is the one guarded HTTP client that fetches what clients host: their metadata
// documents and the key sets at their jwks_uri.
func newCIMDFetcher(cfg *config, log *slog.Logger) *cimd.Fetcher {
	if cfg.OAuth.CIMDAllowPrivateNetworks {
		log.Warn("GATEHOUSE_OAUTH_CIMD_ALLOW_PRIVATE_NETWORKS=true: client metadata documents and key sets (jwks_uri) may be fetched from loopback and private addresses; for tests and development only")
	}
	return cimd.New(cimd.Options{AllowPrivateNetworks: cfg.OAuth.CIMDAllowPrivateNetworks, UserAgent: "Gatehouse"})
}

func (m metadataFetcher) FetchClientMetadata(ctx context.Context, clientID string) (*gatehouse.ClientMetadataDocument, error) {
	d, err := m.f.Fetch(ctx, clientID)
	if err != nil {
		var ce *cimd.Error
		if errors.As(err, &ce) {
			// The reason is written for the client; the cause stays in the logs.
			return nil, errors.New(ce.Reason)
		}
		return nil, err
	}
	return &gatehouse.ClientMetadataDocument{ClientName: d.ClientName, ClientURI: d.ClientURI, LogoURI: d.LogoURI,
		RedirectURIs: d.RedirectURIs, GrantTypes: d.GrantTypes, TokenEndpointAuthMethod: d.TokenEndpointAuthMethod,
		JWKS: d.JWKS, JWKSURI: d.JWKSURI}, nil
}
