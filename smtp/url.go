// Package smtp delivers Gatehouse's email over SMTP (github.com/wneessen/go-mail), configured by
// one URL, and offers a development stand-in that writes each email to the log instead.
package smtp

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Config is a parsed GATEHOUSE_SMTP_URL.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	// ImplicitTLS is smtps://: TLS from the first byte.
	ImplicitTLS bool
	// StartTLS is smtp://: the connection must be upgraded with STARTTLS before anything is sent
	// (a server that does not offer it is an error), unless the URL says ?starttls=off, which is
	// meant for a relay on the same host or network.
	StartTLS bool
}

// ParseURL reads smtp://user:pass@host:port (STARTTLS required; port 587 by default),
// smtps://user:pass@host:port (implicit TLS; port 465 by default) and smtp://host:port?starttls=off.
// User and password are percent-decoded.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, errors.New("not a URL")
	}
	var c Config
	switch u.Scheme {
	case "smtp":
		c.Port, c.StartTLS = 587, true
	case "smtps":
		c.Port, c.ImplicitTLS = 465, true
	default:
		return Config{}, errors.New("want smtp:// or smtps://")
	}
	if u.Opaque != "" || u.Host == "" {
		return Config{}, errors.New("want smtp://[user:password@]host[:port]")
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, errors.New("an SMTP URL has no path")
	}
	c.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, errors.New("the port must be a number from 1 to 65535")
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	for key, values := range u.Query() {
		v := strings.ToLower(values[len(values)-1])
		switch key {
		case "starttls":
			switch v {
			case "off", "false", "no", "0":
				if c.ImplicitTLS {
					return Config{}, errors.New("starttls=off makes no sense with smtps://, which is TLS from the start")
				}
				c.StartTLS = false
			case "on", "true", "yes", "1":
			default:
				return Config{}, fmt.Errorf("starttls=%s: want on or off", v)
			}
		default:
			return Config{}, fmt.Errorf("unknown parameter %q (known: starttls)", key)
		}
	}
	return c, nil
}

// Addr is host:port.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// String describes the configuration for logs, without the password.
func (c Config) String() string {
	scheme, tls := "smtp", "starttls"
	switch {
	case c.ImplicitTLS:
		scheme, tls = "smtps", "implicit tls"
	case !c.StartTLS:
		tls = "no tls"
	}
	user := ""
	if c.Username != "" {
		user = url.User(c.Username).String() + ":xxxxx@"
	}
	return fmt.Sprintf("%s://%s%s (%s)", scheme, user, c.Addr(), tls)
}
