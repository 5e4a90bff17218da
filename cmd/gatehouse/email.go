package main

import (
	"context"
	"io"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/mailtmpl"
	"github.com/gatehouse/gatehouse/smtp"
)

// email builds what the email rules need, and the outbox worker that sends what they queue (to
// run in the background). logOut is where the development mailer writes when no SMTP server is
// configured.
func (a *app) email(logOut io.Writer) (*gatehouse.EmailDeps, func(context.Context), error) {
	ec := a.cfg.Email
	templates, err := mailtmpl.Load(ec.TemplatesDir, ec.ProductName)
	if err != nil {
		return nil, nil, &configError{"GATEHOUSE_TEMPLATES_DIR", ec.TemplatesDir, err.Error()}
	}
	box, err := a.master.box("email outbox")
	if err != nil {
		return nil, nil, err
	}
	outboxCfg := gatehouse.DefaultOutboxConfig
	outboxCfg.RetryMin, outboxCfg.RetryMax, outboxCfg.MaxAge = ec.OutboxRetryMin, ec.OutboxRetryMax, ec.OutboxMaxAge
	outbox := gatehouse.NewOutbox(a.store, box, outboxCfg, a.log, nil)
	emailCfg := gatehouse.DefaultEmailConfig
	emailCfg.AppURL = a.cfg.AppURL
	emailCfg.VerifyTokenTTL, emailCfg.ResetTokenTTL, emailCfg.ResendInterval = ec.VerifyTokenTTL, ec.ResetTokenTTL, ec.ResendInterval

	var mailer gatehouse.Mailer
	if ec.SMTP != nil {
		if mailer, err = smtp.New(*ec.SMTP, a.cfg.MailFrom); err != nil {
			return nil, nil, &configError{"GATEHOUSE_MAIL_FROM", a.cfg.MailFrom, err.Error()}
		}
		a.log.Info("email: sending through SMTP", "smtp", ec.SMTP.String(), "from", a.cfg.MailFrom, "app_url", a.cfg.AppURL)
	} else {
		mailer = smtp.NewDevMailer(logOut)
		a.log.Warn("email: GATEHOUSE_SMTP_URL is unset; emails are written to this log, links included (development only)")
	}
	deps := &gatehouse.EmailDeps{Renderer: templates, Sealer: box, Wake: outbox.Wake, Config: emailCfg}
	return deps, func(ctx context.Context) { outbox.Run(ctx, mailer) }, nil
}
