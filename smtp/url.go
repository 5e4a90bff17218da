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
		return Config{}, parseError(raw, err)
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
		return Config{}, errors.New("an SMTP URL has no path (a / or @ in the user or password must be percent-encoded: %2F, %40)")
	}
	c.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("the port %q is not a number from 1 to 65535; want smtp://host:587 or smtps://host:465", p)
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

// parseError says what is wrong with a URL that does not parse, without quoting it: the part at
// fault may be the password.
func parseError(raw string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "invalid port"):
		// Quote the port only when it stands after the last @, where no password can be.
		hostPort := raw[strings.Index(raw, "://")+3:]
		hostPort = hostPort[strings.LastIndex(hostPort, "@")+1:]
		if i := strings.IndexAny(hostPort, "/?#"); i >= 0 {
			hostPort = hostPort[:i]
		}
		if i := strings.LastIndex(hostPort, ":"); i >= 0 && !strings.HasSuffix(hostPort, "]") {
			return fmt.Errorf("the port %q is not a number from 1 to 65535; want smtp://host:587 or smtps://host:465", hostPort[i+1:])
		}
		return errors.New("not a URL; a / ? # or @ in the user or password must be percent-encoded (%2F %3F %23 %40)")
	case strings.Contains(msg, "escape"):
		return errors.New("a %-escape is invalid; percent-encode the user and password (% as %25, @ as %40, : as %3A)")
	}
	return errors.New("not a URL; want smtp://user:password@host:port, the user and password percent-encoded")
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
