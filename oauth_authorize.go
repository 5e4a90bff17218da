package gatehouse

import "context"

// Authorization is where to send the browser, and the state the callback must bring back.
type Authorization struct {
	URL   string
	State string
}

// Authorize starts a sign-in at a provider: it issues a single-use state bound to the provider and
// the redirect URI, with a PKCE verifier that the server keeps, and returns the provider's URL.
// The redirect URI is checked before anything is stored or any provider is contacted.
func (o *OAuthService) Authorize(ctx context.Context, providerName, redirectURI string) (*Authorization, error) {
	p, err := o.provider(providerName)
	if err != nil {
		return nil, err
	}
	if !o.redirectAllowed(redirectURI) {
		return nil, ErrRedirectURINotAllowed
	}
	now := o.auth.now()
	state := RandomToken(oauthStateBytes)
	salt := RandomBytes(32)
	verifier, nonce := oauthSecrets(state, salt)
	url, err := p.AuthCodeURL(ctx, AuthCodeRequest{
		State:         state,
		CodeChallenge: pkceChallenge(verifier),
		Nonce:         nonce,
		RedirectURI:   redirectURI,
	})
	if err != nil {
		o.logProviderFailure(ctx, providerName, err)
		return nil, err
	}
	err = o.auth.tx(ctx, func(tx StoreTx) error {
		// Sweeping here bounds the table by the authorize rate times the TTL, with no background job.
		if err := tx.DeleteExpiredOAuthStates(ctx, now); err != nil {
			return err
		}
		return tx.CreateOAuthState(ctx, &OAuthState{
			Hash:        HashToken(state),
			Provider:    providerName,
			RedirectURI: redirectURI,
			Salt:        salt,
			CreatedAt:   now,
			ExpiresAt:   now.Add(o.cfg.StateTTL),
		})
	})
	if err != nil {
		return nil, err
	}
	return &Authorization{URL: url, State: state}, nil
}

// logProviderFailure records why a provider failed: the client only sees a 502.
func (o *OAuthService) logProviderFailure(ctx context.Context, provider string, err error) {
	if ErrorKindOf(err) == KindBadGateway {
		o.auth.log.WarnContext(ctx, "oauth provider failed", "provider", provider, "error", err)
	}
}
