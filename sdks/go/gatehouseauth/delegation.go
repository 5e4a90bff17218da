package gatehouseauth

// DelegationPolicy says which tokens a Verifier accepts with respect to delegation (RFC 8693).
type DelegationPolicy int

const (
	// DelegationAllowed accepts delegated and direct tokens alike.
	DelegationAllowed DelegationPolicy = iota
	// DelegationRequired accepts only delegated tokens: an agent acting for a user.
	DelegationRequired
	// DelegationRefused accepts only tokens nobody acts through.
	DelegationRefused
)

// checkDelegation applies the Verifier's policy to a verified principal.
func (v *Verifier) checkDelegation(p *Principal) error {
	switch v.delegation {
	case DelegationRequired:
		return RequireDelegated(p)
	case DelegationRefused:
		return RefuseDelegated(p)
	}
	return nil
}

// RequireDelegated returns nil when an agent acts for the principal's user (the token carries
// "act"), else an ErrInvalidToken error: for a route only agents may call.
func RequireDelegated(p *Principal) error {
	if !p.Delegated() {
		return invalid("a delegated token (an agent acting for a user) is required")
	}
	return nil
}

// RefuseDelegated returns nil when nobody acts through the principal's token, else an
// ErrInvalidToken error: for a route the user (or the app they signed in to) must call
// themselves.
func RefuseDelegated(p *Principal) error {
	if p.Delegated() {
		return invalid("delegated tokens are not accepted here")
	}
	return nil
}
