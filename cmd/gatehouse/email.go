package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/mailtmpl"
	"github.com/gatehouse/gatehouse/seal"
	"github.com/gatehouse/gatehouse/smtp"
)

// enableEmail turns on the email rules of a serving app and returns the outbox worker to run in
// the background. The one-shot CLI commands send no email and leave it off (and so create no key
// file). logOut is where the development mailer writes when no SMTP server is configured.
func (a *app) enableEmail(logOut io.Writer) (run func(context.Context), err error) {
	ec := a.cfg.Email
	templates, err := mailtmpl.Load(ec.TemplatesDir, ec.ProductName)
	if err != nil {
		return nil, &configError{"GATEHOUSE_TEMPLATES_DIR", ec.TemplatesDir, err.Error()}
	}
	key, fromFile, err := seal.LoadKey(ec.EncryptionKey, a.cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("outbox key: %w", err)
	}
	// A key of the outbox's own: the same master key also seals signing keys.
	outboxKey, err := seal.Derive(key, "email outbox")
	if err != nil {
		return nil, err
	}
	box, err := seal.New(outboxKey)
	if err != nil {
		return nil, err
	}
	outboxCfg := gatehouse.DefaultOutboxConfig
	outboxCfg.RetryMin, outboxCfg.RetryMax, outboxCfg.MaxAge = ec.OutboxRetryMin, ec.OutboxRetryMax, ec.OutboxMaxAge
	outbox := gatehouse.NewOutbox(a.store, box, outboxCfg, a.log, nil)
	emailCfg := gatehouse.DefaultEmailConfig
	emailCfg.AppURL = a.cfg.AppURL
	emailCfg.VerifyTokenTTL, emailCfg.ResetTokenTTL, emailCfg.ResendInterval = ec.VerifyTokenTTL, ec.ResetTokenTTL, ec.ResendInterval
	a.auth.EnableEmail(templates, box, outbox.Wake, emailCfg)

	var mailer gatehouse.Mailer
	if ec.SMTP != nil {
		if mailer, err = smtp.New(*ec.SMTP, a.cfg.MailFrom); err != nil {
			return nil, &configError{"GATEHOUSE_MAIL_FROM", a.cfg.MailFrom, err.Error()}
		}
		a.log.Info("email: sending through SMTP", "smtp", ec.SMTP.String(), "from", a.cfg.MailFrom, "app_url", a.cfg.AppURL)
	} else {
		mailer = smtp.NewDevMailer(logOut)
		a.log.Warn("email: GATEHOUSE_SMTP_URL is unset; emails are written to this log, links included (development only)")
	}
	if fromFile && a.cfg.isPostgres() {
		a.log.Warn("email: GATEHOUSE_ENCRYPTION_KEY is unset, so the outbox key is this instance's " + seal.KeyFileName +
			"; give every instance sharing the database the same key, or each sends only the emails it queued")
	}
	return func(ctx context.Context) { outbox.Run(ctx, mailer) }, nil
}
