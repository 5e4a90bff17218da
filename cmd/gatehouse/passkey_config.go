package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/passkey"
)

// webauthnConfig is the passkey relying party as the environment sets it (docs/configuration.md).
type webauthnConfig struct {
	RPID    string   // GATEHOUSE_WEBAUTHN_RP_ID; empty: the host of GATEHOUSE_PUBLIC_URL
	Origins []string // GATEHOUSE_WEBAUTHN_ORIGINS; empty: the origins of the public and app URLs
	RPName  string   // GATEHOUSE_WEBAUTHN_RP_NAME; empty: the product name, or "Gatehouse"
}

func loadWebAuthnConfig(getenv func(string) string) webauthnConfig {
	c := webauthnConfig{
		RPID:   strings.ToLower(strings.TrimSpace(getenv("GATEHOUSE_WEBAUTHN_RP_ID"))),
		RPName: strings.TrimSpace(getenv("GATEHOUSE_WEBAUTHN_RP_NAME")),
	}
	for _, o := range strings.Split(getenv("GATEHOUSE_WEBAUTHN_ORIGINS"), ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			c.Origins = append(c.Origins, o)
		}
	}
	return c
}

// passkeyRP builds the relying party once the public URL is known. What is set explicitly must
// be right (a clear error stops the start); what is derived is left out with a log line when
// browsers would refuse it: passkeys are then off (an IP address or plain http on a host other
// than localhost), or the app's origin is not offered passkeys (another site than the RP ID).
func passkeyRP(cfg *config, productName string, log *slog.Logger) (*passkey.RP, error) {
	w := cfg.WebAuthn
	name := w.RPName
	if name == "" {
		name = productName
	}
	explicit := w.RPID != "" || len(w.Origins) > 0
	rpID := w.RPID
	if rpID == "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil {
			return nil, fmt.Errorf("GATEHOUSE_PUBLIC_URL=%q: %v", cfg.PublicURL, err)
		}
		rpID = strings.ToLower(u.Hostname())
	}
	origins := w.Origins
	if len(origins) == 0 {
		origins = []string{strings.ToLower(originOf(cfg.PublicURL))}
		if app := strings.ToLower(originOf(cfg.AppURL)); app != origins[0] {
			c := passkey.Config{RPID: rpID, Origins: []string{app}}
			if err := c.Validate(); err == nil {
				origins = append(origins, app)
			} else {
				log.Warn("passkeys: the app's origin is left out of GATEHOUSE_WEBAUTHN_ORIGINS", "app_url", cfg.AppURL, "reason", err.Error())
			}
		}
	}
	c := passkey.Config{RPID: rpID, Origins: origins, RPName: name}
	if err := c.Validate(); err != nil {
		if explicit {
			return nil, fmt.Errorf("GATEHOUSE_WEBAUTHN_RP_ID=%q, GATEHOUSE_WEBAUTHN_ORIGINS=%q: %v", rpID, strings.Join(origins, ","), err)
		}
		hint := "set GATEHOUSE_PUBLIC_URL to a domain name (http://localhost:8080 works on one machine) or GATEHOUSE_WEBAUTHN_RP_ID"
		if net.ParseIP(rpID) == nil {
			hint = "serve the dashboard over https, or set GATEHOUSE_WEBAUTHN_RP_ID and GATEHOUSE_WEBAUTHN_ORIGINS"
		}
		log.Info("passkeys are off: "+err.Error(), "hint", hint)
		return nil, nil
	}
	rp, err := passkey.New(c)
	if err != nil {
		return nil, fmt.Errorf("GATEHOUSE_WEBAUTHN_RP_ID=%q: %v", rpID, err)
	}
	log.Info("passkeys: relying party", "rp_id", rpID, "origins", strings.Join(origins, ","))
	return rp, nil
}
