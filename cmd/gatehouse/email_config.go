package main

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/smtp"
)

// emailConfig is the email part of the configuration (GATEHOUSE_SMTP_URL and GATEHOUSE_MAIL_FROM
// are read with the rest, in config.go).
type emailConfig struct {
	SMTP           *smtp.Config // nil: the development mailer writes emails to the log
	TemplatesDir   string
	ProductName    string
	VerifyTokenTTL time.Duration
	ResetTokenTTL  time.Duration
	ResendInterval time.Duration
	OutboxRetryMin time.Duration
	OutboxRetryMax time.Duration
	OutboxMaxAge   time.Duration
}

func loadEmailConfig(getenv func(string) string, smtpURL, mailFrom string) (emailConfig, error) {
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := emailConfig{
		TemplatesDir: env("GATEHOUSE_TEMPLATES_DIR", ""),
		ProductName:  env("GATEHOUSE_PRODUCT_NAME", "Gatehouse"),
	}
	var err error
	duration := func(name, def string, min time.Duration) time.Duration {
		v := env(name, def)
		d, perr := time.ParseDuration(v)
		if err == nil && (perr != nil || d < min) {
			err = &configError{name, v, fmt.Sprintf("want a Go duration of at least %s, such as %s", min, def)}
		}
		return d
	}
	// Token lifetimes go down to a nanosecond so tests can make a token that is expired on arrival.
	c.VerifyTokenTTL = duration("GATEHOUSE_VERIFY_TOKEN_TTL", "24h", time.Nanosecond)
	c.ResetTokenTTL = duration("GATEHOUSE_RESET_TOKEN_TTL", "1h", time.Nanosecond)
	c.ResendInterval = duration("GATEHOUSE_EMAIL_RESEND_INTERVAL", "1m", 0)
	c.OutboxRetryMin = duration("GATEHOUSE_OUTBOX_RETRY_MIN", "5s", time.Millisecond)
	c.OutboxRetryMax = duration("GATEHOUSE_OUTBOX_RETRY_MAX", "10m", time.Millisecond)
	c.OutboxMaxAge = duration("GATEHOUSE_OUTBOX_MAX_AGE", "24h", time.Millisecond)
	if err != nil {
		return c, err
	}
	if c.OutboxRetryMax < c.OutboxRetryMin {
		return c, &configError{"GATEHOUSE_OUTBOX_RETRY_MAX", c.OutboxRetryMax.String(), "must be at least GATEHOUSE_OUTBOX_RETRY_MIN"}
	}
	if smtpURL != "" {
		sc, perr := smtp.ParseURL(smtpURL)
		if perr != nil {
			return c, &configError{"GATEHOUSE_SMTP_URL", redactURL(smtpURL), perr.Error()}
		}
		c.SMTP = &sc
	}
	if _, perr := mail.ParseAddress(mailFrom); perr != nil {
		return c, &configError{"GATEHOUSE_MAIL_FROM", mailFrom, "want an address such as Gatehouse <no-reply@example.com>"}
	}
	if strings.ContainsAny(c.ProductName, "\r\n") {
		return c, &configError{"GATEHOUSE_PRODUCT_NAME", c.ProductName, "must be one line"}
	}
	return c, nil
}
